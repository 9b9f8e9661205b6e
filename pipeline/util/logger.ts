import { pino, type Logger } from 'pino';
import { redact, redactDeep } from './errors.ts';

export type { Logger };

/**
 * Structured JSON logs (pino). Secret fields are censored by path, and every string in a log
 * line (message and fields) goes through `redact()`, so a secret quoted in an error reaches no log.
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? 'info';
  const options = {
    level,
    base: { app: 'cdrpipe' },
    redact: {
      paths: [
        'password',
        'token',
        'apiKey',
        'clientSecret',
        '*.password',
        '*.token',
        '*.apiKey',
        '*.clientSecret',
        'headers.authorization',
      ],
      censor: '***',
    },
    formatters: { log: redactLogFields },
    hooks: {
      logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: Parameters<Logger['info']>) => void) {
        method.apply(this, args.map((a: unknown) => (typeof a === 'string' ? redact(a) : a)) as Parameters<Logger['info']>);
      },
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination(2));
}

/** A logger that drops everything: for tests and quiet library calls. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Log fields with every string redacted; an Error (pino serializes it after this) becomes its redacted parts. */
function redactLogFields(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] =
      v instanceof Error ? { type: v.name, message: redact(v.message), ...(v.stack ? { stack: redact(v.stack) } : {}) } : redactDeep(v);
  }
  return out;
}
