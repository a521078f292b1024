import { ApiError } from '../../../platform/http/errors.js';

/**
 * S3's errors: a code clients switch on, an HTTP status, a message. Errors raised by the
 * shared object logic (ApiError with Swift's statuses) are translated by `fromApiError`
 * into the S3 code a client expects in that place.
 */
export class S3Error extends Error {
  constructor(readonly code: string, readonly status: number, message: string, readonly extra: Record<string, string> = {}, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

const E = (code: string, status: number, message: string) => (extra: Record<string, string> = {}) => new S3Error(code, status, message, extra);

export const errors = {
  accessDenied: E('AccessDenied', 403, 'Access Denied'),
  badDigest: E('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.'),
  bucketAlreadyExists: E('BucketAlreadyExists', 409, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.'),
  bucketAlreadyOwnedByYou: E('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.'),
  bucketNotEmpty: E('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty'),
  entityTooLarge: E('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size'),
  entityTooSmall: E('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.'),
  incompleteBody: E('IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'),
  invalidAccessKeyId: E('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.'),
  invalidArgument: (message: string, extra: Record<string, string> = {}) => new S3Error('InvalidArgument', 400, message, extra),
  invalidBucketName: E('InvalidBucketName', 400, 'The specified bucket is not valid.'),
  invalidBucketState: (message: string) => new S3Error('InvalidBucketState', 409, message),
  invalidDigest: E('InvalidDigest', 400, 'The Content-MD5 you specified is not valid.'),
  invalidPart: E('InvalidPart', 400, 'One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part\'s entity tag.'),
  invalidPartOrder: E('InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'),
  invalidRange: E('InvalidRange', 416, 'The requested range is not satisfiable'),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', 400, message),
  invalidLocationConstraint: E('InvalidLocationConstraint', 400, 'The specified location-constraint is not valid'),
  malformedXml: E('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema.'),
  methodNotAllowed: E('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.'),
  missingContentLength: E('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.'),
  noSuchBucket: E('NoSuchBucket', 404, 'The specified bucket does not exist'),
  noSuchKey: E('NoSuchKey', 404, 'The specified key does not exist.'),
  noSuchUpload: E('NoSuchUpload', 404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'),
  noSuchVersion: E('NoSuchVersion', 404, 'The specified version does not exist.'),
  noSuchLockConfiguration: E('ObjectLockConfigurationNotFoundError', 404, 'Object Lock configuration does not exist for this bucket'),
  noSuchRetention: E('NoSuchObjectLockConfiguration', 404, 'The specified object does not have a ObjectLock configuration'),
  notImplemented: E('NotImplemented', 501, 'A header you provided implies functionality that is not implemented'),
  preconditionFailed: E('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold'),
  requestTimeTooSkewed: E('RequestTimeTooSkewed', 403, 'The difference between the request time and the current time is too large.'),
  signatureDoesNotMatch: E('SignatureDoesNotMatch', 403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'),
  sha256Mismatch: E('XAmzContentSHA256Mismatch', 400, 'The provided \'x-amz-content-sha256\' header does not match what was computed.'),
  authorizationHeaderMalformed: (message: string) => new S3Error('AuthorizationHeaderMalformed', 400, message),
  authorizationQueryParametersError: (message: string) => new S3Error('AuthorizationQueryParametersError', 400, message),
  expired: E('AccessDenied', 403, 'Request has expired'),
};

/** The S3 error for an error the shared object logic raised. */
export function fromApiError(err: ApiError, what: 'bucket' | 'key' | 'version' = 'key'): S3Error {
  switch (err.status) {
    case 400: return errors.invalidArgument(err.message);
    case 401: case 403: return new S3Error('AccessDenied', 403, err.message && err.message !== 'Forbidden' && err.message !== 'Unauthorized' ? err.message : 'Access Denied');
    case 404: return what === 'bucket' ? errors.noSuchBucket() : what === 'version' ? errors.noSuchVersion() : errors.noSuchKey();
    case 409: return new S3Error('OperationAborted', 409, err.message);
    case 412: return errors.preconditionFailed();
    case 413: return err.message.includes('quota') ? new S3Error('QuotaExceeded', 403, 'The bucket or account quota is exceeded.') : errors.entityTooLarge();
    case 416: return errors.invalidRange();
    case 422: return errors.badDigest();
    case 499: return errors.incompleteBody();
    default: return new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.');
  }
}
