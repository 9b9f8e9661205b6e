import type { EnvConfig } from '../../pipeline/config/env.ts';
import type { AlertMessage, Alerter, JobOutcome, JobTaskFn, TaskRegistry } from '../../pipeline/schedule/job-types.ts';

export function testEnv(dataDir: string): EnvConfig {
  return { apiUrl: undefined, auth: undefined, dataDir, smtpUrl: undefined, mailFrom: 'reports@localhost' };
}

/** A registry where every task resolves ok (override per task). */
export function standInRegistry(overrides: Partial<TaskRegistry> = {}): TaskRegistry {
  const ok: JobTaskFn = async (): Promise<JobOutcome> => ({ status: 'ok', rows: 1, requests: 2, summary: { standIn: true } });
  return {
    ingest: ok,
    'late-sweep': ok,
    'monthly-reports': ok,
    reconcile: ok,
    'lake-compact': ok,
    alerts: ok,
    'carrier-reconcile': ok,
    ...overrides,
  };
}

export class RecordingAlerter implements Alerter {
  readonly sent: AlertMessage[] = [];
  async send(message: AlertMessage): Promise<void> {
    this.sent.push(message);
  }
}

/** A promise plus its resolver, to hold a stand-in task open. */
export function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}
