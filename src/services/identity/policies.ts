import { admin, anyone, or, registerPolicies, sameUser, type Rule } from '../../platform/auth/policy.js';

/**
 * Keystone's default rules, reduced to the roles Stratus has: `admin` governs the cloud;
 * users manage their own credentials, application credentials and password; project
 * members may read their own project and domain.
 */
const ownToken: Rule = (ctx, t) => ctx.userId === t.token_user_id;
const ownProject: Rule = (ctx, t) => ctx.projectId !== null && ctx.projectId === t.project_id;
const ownDomain: Rule = (ctx, t) => (ctx.domainId ?? ctx.projectDomainId) === t.domain_id;
const owner: Rule = or(admin, sameUser);

export function registerIdentityPolicies(): void {
  registerPolicies({
    'identity:validate_token': or(admin, ownToken),
    'identity:check_token': or(admin, ownToken),
    'identity:revoke_token': or(admin, ownToken),
    'identity:get_auth_catalog': anyone,
    'identity:get_auth_projects': anyone,
    'identity:get_auth_domains': anyone,
    'identity:get_auth_system': anyone,

    'identity:get_domain': or(admin, ownDomain),
    'identity:list_domains': admin,
    'identity:create_domain': admin,
    'identity:update_domain': admin,
    'identity:delete_domain': admin,

    'identity:get_project': or(admin, ownProject),
    'identity:list_projects': admin,
    'identity:list_user_projects': owner,
    'identity:create_project': admin,
    'identity:update_project': admin,
    'identity:delete_project': admin,
    'identity:list_project_tags': or(admin, ownProject),
    'identity:get_project_tag': or(admin, ownProject),
    'identity:update_project_tags': admin,
    'identity:create_project_tag': admin,
    'identity:delete_project_tag': admin,
    'identity:delete_project_tags': admin,

    'identity:get_user': owner,
    'identity:list_users': admin,
    'identity:create_user': admin,
    'identity:update_user': admin,
    'identity:delete_user': admin,

    'identity:get_group': admin,
    'identity:list_groups': admin,
    'identity:list_groups_for_user': owner,
    'identity:create_group': admin,
    'identity:update_group': admin,
    'identity:delete_group': admin,
    'identity:list_users_in_group': admin,
    'identity:add_user_to_group': admin,
    'identity:remove_user_from_group': admin,
    'identity:check_user_in_group': admin,

    'identity:get_role': admin,
    'identity:list_roles': admin,
    'identity:create_role': admin,
    'identity:update_role': admin,
    'identity:delete_role': admin,
    'identity:create_grant': admin,
    'identity:check_grant': admin,
    'identity:list_grants': admin,
    'identity:revoke_grant': admin,
    'identity:list_role_assignments': or(admin, (ctx, t) => t.user_id === ctx.userId),
    'identity:create_implied_role': admin,
    'identity:get_implied_role': admin,
    'identity:list_implied_roles': admin,
    'identity:list_role_inference_rules': admin,
    'identity:delete_implied_role': admin,
    'identity:check_implied_role': admin,

    'identity:get_application_credential': owner,
    'identity:list_application_credentials': owner,
    'identity:create_application_credential': sameUser,
    'identity:delete_application_credential': owner,
    'identity:get_access_rule': owner,
    'identity:list_access_rules': owner,
    'identity:delete_access_rule': owner,

    'identity:get_credential': owner,
    'identity:list_credentials': anyone, // filtered to the caller's own unless admin
    'identity:create_credential': owner,
    'identity:update_credential': owner,
    'identity:delete_credential': owner,
    'identity:ec2_get_credential': owner,
    'identity:ec2_list_credentials': owner,
    'identity:ec2_create_credential': owner,
    'identity:ec2_delete_credential': owner,

    'identity:get_policy': admin,
    'identity:list_policies': admin,
    'identity:create_policy': admin,
    'identity:update_policy': admin,
    'identity:delete_policy': admin,

    'identity:get_region': anyone,
    'identity:list_regions': anyone,
    'identity:create_region': admin,
    'identity:update_region': admin,
    'identity:delete_region': admin,
    'identity:get_service': admin,
    'identity:list_services': admin,
    'identity:create_service': admin,
    'identity:update_service': admin,
    'identity:delete_service': admin,
    'identity:get_endpoint': admin,
    'identity:list_endpoints': admin,
    'identity:create_endpoint': admin,
    'identity:update_endpoint': admin,
    'identity:delete_endpoint': admin,
  });
}
