/**
 * Nova's three states of a server and the one status the API shows. vm_state is where the
 * server is at rest, task_state what is happening to it now (null at rest), power_state what
 * the hypervisor reports. The status a client sees is derived from the first two exactly as
 * Nova derives it, so clients and Tempest's waiters see the transitions they expect.
 */
export const VM = {
  ACTIVE: 'active', BUILDING: 'building', PAUSED: 'paused', SUSPENDED: 'suspended', STOPPED: 'stopped', RESCUED: 'rescued',
  RESIZED: 'resized', SOFT_DELETED: 'soft-delete', DELETED: 'deleted', ERROR: 'error', SHELVED: 'shelved', SHELVED_OFFLOADED: 'shelved_offloaded',
} as const;
export type VmState = (typeof VM)[keyof typeof VM];

const DEFAULT_STATUS: Record<string, string> = {
  active: 'ACTIVE', building: 'BUILD', paused: 'PAUSED', suspended: 'SUSPENDED', stopped: 'SHUTOFF', rescued: 'RESCUE',
  resized: 'VERIFY_RESIZE', 'soft-delete': 'SOFT_DELETED', deleted: 'DELETED', error: 'ERROR', shelved: 'SHELVED',
  shelved_offloaded: 'SHELVED_OFFLOADED',
};

/** Task states that change the status shown, per vm_state (Nova's state-to-status table). */
const BY_TASK: Record<string, Record<string, string>> = {
  active: {
    rebooting: 'REBOOT', reboot_pending: 'REBOOT', reboot_started: 'REBOOT', rebooting_hard: 'HARD_REBOOT', reboot_pending_hard: 'HARD_REBOOT',
    reboot_started_hard: 'HARD_REBOOT', updating_password: 'PASSWORD', rebuilding: 'REBUILD', rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD', migrating: 'MIGRATING', resize_prep: 'RESIZE', resize_migrating: 'RESIZE', resize_migrated: 'RESIZE',
    resize_finish: 'RESIZE',
  },
  stopped: { resize_prep: 'RESIZE', resize_migrating: 'RESIZE', resize_migrated: 'RESIZE', resize_finish: 'RESIZE', rebuilding: 'REBUILD', rebuild_spawning: 'REBUILD' },
  resized: { resize_reverting: 'REVERT_RESIZE' },
  building: {},
  error: { rebuilding: 'REBUILD', rebuild_spawning: 'REBUILD' },
};

export function serverStatus(vmState: string, taskState: string | null): string {
  if (taskState && BY_TASK[vmState]?.[taskState]) return BY_TASK[vmState][taskState]!;
  if (vmState === 'building' || taskState === 'deleting') return vmState === 'building' ? 'BUILD' : DEFAULT_STATUS[vmState] ?? 'UNKNOWN';
  return DEFAULT_STATUS[vmState] ?? 'UNKNOWN';
}

/** The vm_states a status filter means (`openstack server list --status SHUTOFF`). */
export function vmStatesFor(status: string): { vm: string[]; task?: string[] } | null {
  const s = status.toUpperCase();
  for (const [vm, st] of Object.entries(DEFAULT_STATUS)) if (st === s && !['REBOOT', 'HARD_REBOOT', 'RESIZE', 'REBUILD', 'MIGRATING', 'PASSWORD'].includes(s)) return { vm: [vm] };
  const tasks = Object.entries(BY_TASK).flatMap(([vm, m]) => Object.entries(m).filter(([, st]) => st === s).map(([task]) => ({ vm, task })));
  if (tasks.length) return { vm: [...new Set(tasks.map((t) => t.vm))], task: [...new Set(tasks.map((t) => t.task))] };
  return null;
}
