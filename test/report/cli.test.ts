import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../pipeline/cli/main.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { makeScenario, type Scenario } from './fixtures/scenario.ts';

describe('cdrpipe report (CLI)', () => {
  let sink: SmtpSink;
  let s: Scenario;
  const saved = { ...process.env };
  let out = '';

  beforeAll(async () => {
    sink = await startSmtpSink();
    s = await makeScenario();
    const configFile = join(s.dataDir, 'test.config.ts');
    await writeFile(
      configFile,
      `export default ${JSON.stringify({
        reseller: { name: 'Example Voice Co.', billingEmails: ['billing@reseller.example'] },
        plans: {
          standard: {
            version: '1',
            rateDeck: 'reports/rates/standard.csv',
            inbound: { perMinute: '0.01' },
            tollFreeInbound: { perMinute: '0.02' },
          },
        },
        customers: { defaults: { recipients: ['usage@{domain}'] } },
        jobs: {},
      })};\n`,
    );
    Object.assign(process.env, {
      CDRPIPE_DATA_DIR: s.dataDir,
      CDRPIPE_CONFIG: configFile,
      SMTP_URL: sink.url,
      MAIL_FROM: 'reports@reseller.example',
      CDRPIPE_LOG_LEVEL: 'silent',
    });
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    process.env = saved;
    process.exitCode = undefined;
    await sink.close();
  });

  async function cli(...args: string[]): Promise<number> {
    out = '';
    process.exitCode = undefined;
    const code = await main(['node', 'cdrpipe', 'report', ...args]);
    process.exitCode = undefined;
    return code;
  }

  it('--send delivers one message per configured recipient of every domain; running it again delivers none', async () => {
    expect(await cli('--month', '2026-10', '--send')).toBe(0);
    expect(out).toMatch(/4 sent, 0 skipped/);
    expect(sink.messages.flatMap((m) => m.rcpt).sort()).toEqual([
      'billing@reseller.example',
      'usage@acme.example',
      'usage@empty.example',
      'usage@globex.example',
    ]);
    expect(await cli('--month', '2026-10', '--send')).toBe(0);
    expect(out).toMatch(/0 sent, 4 skipped/);
    expect(sink.messages).toHaveLength(4);
  });

  it('exits 1 when a message fails, and 2 on bad usage', async () => {
    sink.rejectRecipients.add('usage@globex.example');
    expect(await cli('--month', '2026-10', '--send', '--force', '--domain', 'globex.example')).toBe(1);
    expect(out).toMatch(/FAILED monthly-usage globex.example -> usage@globex.example: .*550/);
    sink.rejectRecipients.clear();
    expect(await cli('--month', '2026-13')).toBe(2);
    expect(out).toMatch(/--month/);
    expect(await cli('--month', '2026-10', '--domain', 'nope.example')).toBe(2);
    expect(await cli('--month', '2026-10', '--force')).toBe(2);
    expect(await cli('--send')).toBe(2);
  });

  it('--dry-run --json renders and reports without sending', async () => {
    const before = sink.messages.length;
    expect(await cli('--month', '2026-10', '--send', '--dry-run', '--json')).toBe(0);
    const summary = JSON.parse(out) as { mode: string; reports: unknown[]; delivery?: unknown };
    expect(summary.mode).toBe('dry-run');
    expect(summary.reports).toHaveLength(4);
    expect(summary.delivery).toBeUndefined();
    expect(sink.messages).toHaveLength(before);
  });
});
