import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, projectRoot } from '../../pipeline/config/load-config.ts';
import { ConfigError } from '../../pipeline/util/errors.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { currentPlanSnapshots } from '../../pipeline/transform/plan-registry.ts';

/** A folder outside the checkout, as /etc/cdrpipe is for an operator. */
async function outsideDir(): Promise<string> {
  const dir = await tempDir('cdrpipe-etc-');
  expect(dir.startsWith(projectRoot)).toBe(false);
  return dir;
}

const body = (deck: string, extra = '') => `{
  reseller: { name: 'Etc Voice' },
  plans: { standard: { version: 'e1', rateDeck: ${JSON.stringify(deck)}, inbound: { perMinute: '0.01' }, tollFreeInbound: { perMinute: '0.02' } } },
  customers: { defaults: { plan: 'standard' } },
  jobs: {},${extra}
}`;

const DECK = `prefix,description,per_minute,initial_increment,subsequent_increment,minimum_seconds,connect_fee,effective_from
+1,US domestic,0.012,6,6,0,0,2026-01-01
`;

describe('loading a config file from any folder', () => {
  for (const ext of ['ts', 'mts', 'js', 'mjs']) {
    it(`loads jobs.config.${ext} that imports defineConfig from 'cdrpipe', with its deck beside it`, async () => {
      const dir = await outsideDir();
      const file = join(dir, `jobs.config.${ext}`);
      await writeFile(file, `import { defineConfig } from 'cdrpipe';\nexport default defineConfig(${body('rates/deck.csv')});\n`);
      const config = await loadConfig(file);
      expect(config.reseller.name).toBe('Etc Voice');
      expect(config.plans.standard?.rateDeck).toBe(join(dir, 'rates/deck.csv'));
    });
  }

  it('keeps an absolute rateDeck as written', async () => {
    const dir = await outsideDir();
    const file = join(dir, 'jobs.config.ts');
    await writeFile(file, `export default ${body('/srv/decks/standard.csv')};\n`);
    expect((await loadConfig(file)).plans.standard?.rateDeck).toBe('/srv/decks/standard.csv');
  });

  it('refuses a bad file with a ConfigError naming the file (and the field when there is one)', async () => {
    const dir = await outsideDir();
    const bad = join(dir, 'bad.config.ts');
    await writeFile(bad, `export default ${body('deck.csv').replace("perMinute: '0.01'", 'perMinute: 0.01')};\n`);
    await expect(loadConfig(bad)).rejects.toThrow(ConfigError);
    await expect(loadConfig(bad)).rejects.toThrow(`${bad}: plans.standard.inbound.perMinute`);

    const broken = join(dir, 'broken.config.ts');
    await writeFile(broken, `export default {\n`);
    await expect(loadConfig(broken)).rejects.toThrow(new RegExp(`config file ${broken} could not be loaded`));

    const noDefault = join(dir, 'nodefault.config.mjs');
    await writeFile(noDefault, `export const config = {};\n`);
    await expect(loadConfig(noDefault)).rejects.toThrow(/no default export/);

    const json = join(dir, 'jobs.config.json');
    await writeFile(json, '{}');
    await expect(loadConfig(json)).rejects.toThrow(/expected a \.ts, \.mts, \.js, \.mjs file/);
  });
});

describe('cdrpipe --config <file outside the checkout>', () => {
  it('runs a transform with the config and its relative deck, and exits 2 naming file and field on a bad one', async () => {
    const dir = await outsideDir();
    const file = join(dir, 'jobs.config.ts');
    await writeFile(join(dir, 'deck.csv'), DECK);
    await writeFile(file, `import { defineConfig } from 'cdrpipe';\nexport default defineConfig(${body('deck.csv')});\n`);
    const env = { CDRPIPE_DATA_DIR: join(dir, 'data') };
    const ok = await runCli(['transform', '--config', file], { cwd: dir, env: { CDRPIPE_LOG_LEVEL: 'silent', ...env } });
    expect(ok.output).not.toMatch(/Cannot require\(\) ES Module/);
    expect(ok.code, ok.output).toBe(0);

    const bad = join(dir, 'bad.config.ts');
    await writeFile(
      bad,
      `import { defineConfig } from 'cdrpipe';\nexport default defineConfig(${body('deck.csv', "\n  ingest: { concurrency: 'four' },")});\n`,
    );
    const badField = await runCli(['status', '--config', bad], { cwd: dir, env: { CDRPIPE_LOG_LEVEL: 'silent', ...env } });
    expect(badField.code, badField.output).toBe(2);
    expect(badField.output).toContain(`${bad}: ingest.concurrency`);
  }, 240_000); // two CLI processes, each compiling the sources: slow on a busy machine

  it('a relative rateDeck that is not beside the config is a ConfigError naming the field and the path looked at', async () => {
    const dir = await outsideDir();
    const file = join(dir, 'jobs.config.ts');
    await writeFile(file, `import { defineConfig } from 'cdrpipe';\nexport default defineConfig(${body('missing.csv')});\n`);
    const err = await currentPlanSnapshots(await loadConfig(file)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('plans.standard.rateDeck');
    expect((err as ConfigError).message).toContain(join(dir, 'missing.csv'));
  });
});
