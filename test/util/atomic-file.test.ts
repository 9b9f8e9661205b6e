import { describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeFilesAtomic } from '../../pipeline/util/atomic-file.ts';
import { writeReconcileCsv } from '../../pipeline/transform/reconcile.ts';
import { createOutboxTransport } from '../../pipeline/deliver/outbox-transport.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { tempDir } from '../support/temp-dir.ts';

async function dir(): Promise<string> {
  return tempDir('cdrpipe-atomic-');
}

describe('files written aside, then renamed', () => {
  it('two writes of the same file at once in one process both complete, and one of them wins whole', async () => {
    const d = await dir();
    const path = join(d, 'out', 'f.txt');
    const a = 'a'.repeat(200_000);
    const b = 'b'.repeat(200_000);
    await Promise.all([writeFileAtomic(path, a), writeFileAtomic(path, b)]);
    expect([a, b]).toContain(await readFile(path, 'utf8'));
    expect(await readdir(join(d, 'out'))).toEqual(['f.txt']);
  });

  it('the reconcile CSV: a write that cannot be put in place leaves no temp file behind', async () => {
    const d = await dir();
    const folder = join(d, 'reports', '2026-10');
    const path = join(folder, 'reconcile.csv');
    await mkdir(join(path, 'blocker'), { recursive: true });
    await expect(writeReconcileCsv(path, [])).rejects.toThrow();
    expect(await readdir(folder)).toEqual(['reconcile.csv']);
  });

  it('the outbox: a message that cannot be put in place leaves no temp file behind', async () => {
    const d = await dir();
    const outbox = join(d, 'outbox');
    const transport = createOutboxTransport(outbox, new FixedClock(new Date('2026-11-01T06:00:00Z')));
    const mail = {
      from: { name: 'Reports', address: 'reports@localhost' },
      to: { name: '', address: 'usage@a.example' },
      subject: 's',
      html: '<p>t</p>',
      text: 't',
      attachments: [],
      headers: { 'X-Cdrpipe-Report': 'monthly-usage; 2026-10; a.example' },
    };
    const first = await transport.send(mail);
    const written = (await readdir(outbox))[0]!;
    expect(first.response).toContain(written);
    // Same clock, same name: a folder in its place makes the rename fail.
    await rm(join(outbox, written));
    await mkdir(join(outbox, written, 'blocker'), { recursive: true });
    await expect(transport.send(mail)).rejects.toThrow();
    expect(await readdir(outbox)).toEqual([written]);
  });

  it('a group of files in one folder: all written whole, or (one cannot be) none published and no temp file left', async () => {
    const d = join(await dir(), 'r');
    await writeFilesAtomic(d, [
      { name: 'report.html', content: '<p>1</p>' },
      { name: 'calls.csv', content: 'a\r\n' },
    ]);
    expect(await readFile(join(d, 'report.html'), 'utf8')).toBe('<p>1</p>');
    expect(await readFile(join(d, 'calls.csv'), 'utf8')).toBe('a\r\n');
    // A file whose folder does not exist cannot be written: the others of the group are not published.
    const blockedDir = join(d, 'sub');
    await mkdir(blockedDir);
    await expect(
      writeFilesAtomic(d, [
        { name: 'report.html', content: '<p>2</p>' },
        { name: 'sub/x.txt', content: 'x' },
        { name: 'missing/y.txt', content: 'y' },
      ]),
    ).rejects.toThrow();
    expect(await readFile(join(d, 'report.html'), 'utf8')).toBe('<p>1</p>');
    expect((await readdir(d)).sort()).toEqual(['calls.csv', 'report.html', 'sub']);
    expect(await readdir(blockedDir)).toEqual([]);
  });
});
