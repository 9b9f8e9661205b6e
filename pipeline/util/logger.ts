import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs (pino). Secrets are redacted by path; messages built from errors should
 * go through `redact()` in errors.ts as well.
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env.CDRPIPE_LOG_LEVEL ?? 'info';
  const options = {
    level,
    base: { app: 'cdrpipe' },
    redact: {
      paths: ['password', 'token', 'apiKey', 'clientSecret', '*.password', '*.token', '*.apiKey', '*.clientSecret', 'headers.authorization'],
      censor: '***',
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination(2));
}

/** A logger that drops everything: for tests and quiet library calls. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
