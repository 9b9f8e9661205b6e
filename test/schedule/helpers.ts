import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, projectRoot } from '../../pipeline/config/load-config.ts';
import type { CdrpipeConfig, CdrpipeConfigInput } from '../../pipeline/config/config-schema.ts';
import type { EnvConfig } from '../../pipeline/config/env.ts';
import type { AlertMessage, Alerter, JobOutcome, JobTaskFn, TaskRegistry } from '../../pipeline/schedule/job-types.ts';

export async function tempDir(prefix = 'cdrpipe-sched-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function testConfig(jobs?: CdrpipeConfigInput['jobs'], reseller: Partial<CdrpipeConfigInput['reseller']> = {}): CdrpipeConfig {
  return parseConfig({
    reseller: { name: 'Test Co', timeZone: 'America/New_York', billingEmails: ['billing@test.example'], operatorEmail: 'ops@test.example', ...reseller },
    plans: {
      standard: {
        version: 't1',
        rateDeck: 'reports/rates/standard.csv',
        inbound: { perMinute: '0.01' },
        tollFreeInbound: { perMinute: '0.02' },
      },
    },
    customers: { defaults: { plan: 'standard', recipients: ['usage@{domain}'] } },
    jobs: jobs ?? {
      ingest: { task: 'ingest', cron: '*/15 * * * *' },
      'late-sweep': { task: 'late-sweep', cron: '30 2 * * *', options: { days: 3 } },
      'monthly-reports': { task: 'monthly-reports', cron: '0 6 1 * *' },
      reconcile: { task: 'reconcile', cron: '0 7 * * *' },
    },
  });
}

export function testEnv(dataDir: string): EnvConfig {
  return { apiUrl: undefined, auth: undefined, dataDir, smtpUrl: undefined, mailFrom: 'reports@localhost' };
}

/** A registry where every task resolves ok (override per task). */
export function standInRegistry(overrides: Partial<TaskRegistry> = {}): TaskRegistry {
  const ok: JobTaskFn = async (): Promise<JobOutcome> => ({ status: 'ok', rows: 1, requests: 2, summary: { standIn: true } });
  return { ingest: ok, 'late-sweep': ok, 'monthly-reports': ok, reconcile: ok, ...overrides };
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

/** Runs `cdrpipe <args>` from the sources in a child process, collecting stdout and stderr together. */
export function spawnCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'pipeline/cli/main.ts'), ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}
