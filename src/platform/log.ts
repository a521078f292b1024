import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured logs; secrets never reach them (see the redact list). */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers["x-auth-token"]', 'req.headers["x-subject-token"]', 'req.headers.authorization', '*.password', '*.secret'],
      censor: '***',
    },
  });
}
