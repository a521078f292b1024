import { STATUS_CODES } from 'node:http';

/**
 * An error a client caused or is told about. Handlers and logic throw it; each service's
 * error formatter turns it into that service's wire shape.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Machine-readable type for services that have one (Neutron's `type`). */
    readonly type?: string,
    /** A whole body that replaces the service's error shape (e.g. Keystone's MFA receipt). */
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (msg: string) => new ApiError(400, msg);
export const unauthorized = (msg = 'The request you have made requires authentication.') => new ApiError(401, msg);
export const forbidden = (msg = 'You are not authorized to perform the requested action.') => new ApiError(403, msg);
export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string) => new ApiError(409, msg);

export const statusTitle = (status: number): string => STATUS_CODES[status] ?? 'Error';

/** Turns a status and message into a service's error body (Keystone, Nova, Neutron, ... differ). */
export type ErrorFormatter = (err: { status: number; message: string; type?: string }) => unknown;

/** Keystone: {"error": {"code", "message", "title"}}. */
export const keystoneError: ErrorFormatter = ({ status, message }) => ({
  error: { code: status, message, title: statusTitle(status) },
});

/** Nova and Cinder: a keyed object whose key names the fault kind. */
export const novaError: ErrorFormatter = ({ status, message }) => {
  const key = ({ 400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod',
    409: 'conflictingRequest', 413: 'overLimit', 415: 'badMediaType', 501: 'notImplemented' } as Record<number, string>)[status]
    ?? (status >= 500 ? 'computeFault' : 'badRequest');
  return { [key]: { code: status, message } };
};

/** Glance: webob's JSON error document, whose code is the status line. */
export const glanceError: ErrorFormatter = ({ status, message }) => ({
  message, code: `${status} ${statusTitle(status)}`, title: statusTitle(status),
});

/** Neutron: {"NeutronError": {"type", "message", "detail"}}. */
export const neutronError: ErrorFormatter = ({ status, message, type }) => ({
  NeutronError: { type: type ?? statusTitle(status).replaceAll(' ', ''), message, detail: '' },
});
