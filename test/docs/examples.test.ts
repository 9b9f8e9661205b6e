/**
 * Runs the shell examples the README and the docs mark with `<!-- doc-test -->`, so the manual
 * cannot drift from the product. Each example runs in `bash -e` in a fresh temp directory with
 * its own CDRPIPE_DATA_DIR, `cdrpipe` / `npx cdrpipe` running bin/cdrpipe.js from the sources;
 * it must exit 0, and when a `<!-- doc-test output -->` text block follows, each of its lines
 * must appear in the example's stdout.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** A marked example: where it is, its script, and the lines its output must contain. */
export interface DocExample {
  file: string;
  line: number;
  script: string;
  expected: string[];
}

const EXAMPLE_MARK = '<!-- doc-test -->';
const OUTPUT_MARK = '<!-- doc-test output -->';

/** The fenced block that starts at `lines[start]` (its info string must be `want`), and the line after it. */
function fencedBlock(lines: string[], start: number, where: string, want: string): { body: string[]; next: number } {
  const open = lines[start]?.trim() ?? '';
  const fence = /^(`{3,}|~{3,})\s*(\S*)/.exec(open);
  if (!fence || fence[2] !== want) {
    throw new Error(`${where}: the line after the doc-test mark must open a \`\`\`${want} block, found ${JSON.stringify(open)}`);
  }
  const body: string[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    if (lines[i]!.trim() === fence[1]) return { body, next: i + 1 };
    body.push(lines[i]!);
  }
  throw new Error(`${where}: the ${want} block opened here is never closed`);
}

/** Every marked example of one markdown text (pure, so the extraction itself is testable). */
export function extractExamples(file: string, markdown: string): DocExample[] {
  const lines = markdown.split(/\r?\n/);
  const examples: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== EXAMPLE_MARK) continue;
    const where = `${file}:${i + 1}`;
    const block = fencedBlock(lines, i + 1, where, 'sh');
    let next = block.next;
    while (next < lines.length && lines[next]!.trim() === '') next++;
    let expected: string[] = [];
    if (lines[next]?.trim() === OUTPUT_MARK) {
      const out = fencedBlock(lines, next + 1, `${file}:${next + 1}`, 'text');
      expected = out.body.map((l) => l.trim()).filter((l) => l !== '');
      next = out.next;
    }
    examples.push({ file, line: i + 1, script: block.body.join('\n'), expected });
    i = next - 1;
  }
  return examples;
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Whether one expected line (whitespace runs equal, `…` matching anything) appears on a line of `stdout`. */
export function outputHasLine(stdout: string, expectedLine: string): boolean {
  const pattern = squash(expectedLine)
    .split('…')
    .map((piece) => piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(pattern);
  return stdout.split(/\r?\n/).some((l) => re.test(squash(l)));
}

async function markdownFiles(): Promise<string[]> {
  const docs = (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f));
  return [join(root, 'README.md'), join(root, 'CONTRIBUTING.md'), join(root, 'bench', 'README.md'), ...docs];
}

// `npx cdrpipe` and `cdrpipe` both run this checkout's bin from its sources, whatever is installed.
const PREAMBLE = `
cdrpipe() { node "$CDRPIPE_ROOT/bin/cdrpipe.js" "$@"; }
npx() { if [ "$1" = cdrpipe ]; then shift; cdrpipe "$@"; else command npx "$@"; fi; }
`;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one example in its own process group, and ends that group afterwards (background servers included). */
async function runExample(example: DocExample, dir: string): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('NS_') || key === 'SMTP_URL' || key === 'MAIL_FROM' || key === 'CDRPIPE_CONFIG') delete env[key];
  }
  Object.assign(env, { CDRPIPE_ROOT: root, CDRPIPE_DATA_DIR: join(dir, 'data'), CDRPIPE_FROM_SOURCE: '1', CDRPIPE_LOG_LEVEL: 'warn' });
  const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', PREAMBLE + example.script], {
    cwd: dir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('exit', (c) => done(c));
  });
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // The group is already gone: nothing was left running.
  }
  return { code, stdout, stderr };
}

const files = await markdownFiles();
const examples = (await Promise.all(files.map(async (f) => extractExamples(relative(root, f), await readFile(f, 'utf8'))))).flat();

describe('doc-test extraction', () => {
  it('finds a marked sh block and the output lines that follow it', () => {
    const md = ['x', EXAMPLE_MARK, '```sh', 'echo hi', '```', '', OUTPUT_MARK, '```text', '  hi  ', '', '```', 'y'].join('\n');
    expect(extractExamples('a.md', md)).toEqual([{ file: 'a.md', line: 2, script: 'echo hi', expected: ['hi'] }]);
  });

  it('refuses a mark that is not followed by an sh block', () => {
    expect(() => extractExamples('a.md', [EXAMPLE_MARK, '```ts', 'x', '```'].join('\n'))).toThrow(/a\.md:1/);
  });

  it('matches expected lines with any spacing and … as a wildcard', () => {
    expect(outputHasLine('lake:      0 files, 0 rows, 0 B\n', 'lake: 0 files, 0 rows, 0 B')).toBe(true);
    expect(outputHasLine('rows  5 fetched, 5 written\n', 'rows … fetched, … written')).toBe(true);
    expect(outputHasLine('rows 5 fetched\n', 'rows … written')).toBe(false);
  });

  it('the README and the docs carry runnable examples', () => {
    expect(examples.some((e) => e.file === 'README.md')).toBe(true);
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });
});

// Concurrent: each example mostly waits for its own cdrpipe processes to start.
describe.concurrent("the docs' shell examples run", () => {
  for (const example of examples) {
    it(`${example.file}:${example.line}`, { timeout: 180_000 }, async ({ expect }) => {
      // File-scoped: these tests run concurrently, where a test-scoped hook has no single current test.
      const dir = await tempDir('cdrpipe-doc-', { scope: 'file' });
      const ran = await runExample(example, dir);
      const context = `\n--- script ---\n${example.script}\n--- stdout ---\n${ran.stdout}\n--- stderr ---\n${ran.stderr}`;
      expect(ran.code, `exit code of ${example.file}:${example.line}${context}`).toBe(0);
      for (const line of example.expected) {
        expect(outputHasLine(ran.stdout, line), `output line ${JSON.stringify(line)}${context}`).toBe(true);
      }
    });
  }
});
