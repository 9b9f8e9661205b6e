import { existsSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { configSchema, type CdrpipeConfig, type CustomerSettings, type Plan } from './config-schema.ts';
import { ConfigError } from '../util/errors.ts';
import { withEnvVariable } from './env.ts';
import { resolveRecipients, type DroppedRecipient } from './resolve-recipients.ts';

/** The repository root (where jobs.config.ts and reports/ live). */
export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Validates a config object; the error names the first bad field as a dotted path. */
export function parseConfig(input: unknown, source = 'jobs.config.ts'): CdrpipeConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    throw new ConfigError(`${source}: ${field || '(root)'}: ${issue.message}`, field);
  }
  const config = parsed.data;
  for (const [name, c] of Object.entries({ defaults: config.customers.defaults, ...config.customers.domains })) {
    if (c.plan !== undefined && !(c.plan in config.plans)) {
      throw new ConfigError(
        `${source}: customers.${name === 'defaults' ? 'defaults' : `domains.${name}`}.plan: no plan named ${JSON.stringify(c.plan)} (plans: ${Object.keys(config.plans).join(', ')})`,
        'plan',
      );
    }
  }
  return config;
}

/** The file types a config file may be: TypeScript or JavaScript ES modules. */
export const CONFIG_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

/**
 * The config with every relative file path in it (a plan's rateDeck) resolved against `baseDir`,
 * the config file's folder, so a config kept in /etc/cdrpipe finds its deck beside it.
 */
export function resolveConfigPaths(config: CdrpipeConfig, baseDir: string): CdrpipeConfig {
  const plans = Object.fromEntries(
    Object.entries(config.plans).map(([id, plan]) => [id, { ...plan, rateDeck: resolve(baseDir, plan.rateDeck) }]),
  );
  return { ...config, plans };
}

/**
 * Imports a config module from any folder. tsx's scoped import compiles TypeScript whatever the
 * file's package scope, and the project's tsconfig `paths` lets the file import 'cdrpipe' even
 * from outside the checkout (a plain dynamic import fails there on Node 20 with "Cannot require()
 * ES Module ... in a cycle").
 */
async function importConfigModule(file: string): Promise<{ default?: unknown }> {
  const found = resolve(projectRoot, 'tsconfig.json');
  const tsconfig = existsSync(found) ? found : false;
  // A .ts file outside any "type": "module" package is loaded as CommonJS, whose resolver reads
  // the tsconfig from this variable when tsImport sets it up (the option reaches the ESM side only).
  return withEnvVariable('TSX_TSCONFIG_PATH', tsconfig || undefined, async () => {
    return (await tsImport(pathToFileURL(file).href, { parentURL: import.meta.url, tsconfig })) as { default?: unknown };
  });
}

/** The default export, also when the file was loaded as CommonJS (its exports object is then the default). */
function defaultExport(mod: { default?: unknown }): unknown {
  const d = mod.default;
  if (d !== null && typeof d === 'object' && (d as { __esModule?: unknown }).__esModule === true)
    return (d as { default?: unknown }).default;
  return d;
}

/**
 * Loads the config file (the given path, e.g. from --config or CDRPIPE_CONFIG; else the project's jobs.config.ts)
 * and validates it. Relative paths in it resolve against the file's folder. Every failure is a
 * ConfigError (exit 2) naming the file and, when it is about a field, the field.
 */
export async function loadConfig(path?: string): Promise<CdrpipeConfig> {
  const file = path ?? resolve(projectRoot, 'jobs.config.ts');
  const abs = isAbsolute(file) ? file : resolve(process.cwd(), file);
  if (!existsSync(abs))
    throw new ConfigError(`config file not found: ${abs} (give an existing file with --config or CDRPIPE_CONFIG)`, 'CDRPIPE_CONFIG');
  if (!(CONFIG_EXTENSIONS as readonly string[]).includes(extname(abs))) {
    throw new ConfigError(
      `config file ${abs}: expected a ${CONFIG_EXTENSIONS.join(', ')} file (an ES module with \`export default defineConfig({...})\`)`,
      'CDRPIPE_CONFIG',
    );
  }
  let mod: { default?: unknown };
  try {
    mod = await importConfigModule(abs);
  } catch (err) {
    // tsx tags the file's URL with its loader namespace; the operator needs only the path.
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\?namespace=[\w-]+/g, '');
    throw new ConfigError(
      `config file ${abs} could not be loaded: ${reason} (fix the file; it must be an ES module with \`export default defineConfig({...})\`)`,
      'CDRPIPE_CONFIG',
    );
  }
  const exported = defaultExport(mod);
  if (exported === undefined) {
    throw new ConfigError(
      `config file ${abs}: no default export (write \`export default defineConfig({...})\`, with \`import { defineConfig } from 'cdrpipe'\`)`,
      'default',
    );
  }
  return resolveConfigPaths(parseConfig(exported, abs), dirname(abs));
}

/**
 * A domain's effective settings: its own entry over the defaults, with `{domain}` filled in.
 * `recipients` holds only valid single addresses; entries that gave none are in `droppedRecipients`.
 */
export function customerFor(
  config: CdrpipeConfig,
  domain: string,
): Required<Pick<CustomerSettings, 'plan' | 'recipients'>> & CustomerSettings & { planDef: Plan; droppedRecipients: DroppedRecipient[] } {
  const merged = { ...config.customers.defaults, ...(config.customers.domains[domain] ?? {}) };
  const plan = merged.plan ?? Object.keys(config.plans)[0]!;
  const { recipients, dropped } = resolveRecipients(merged.recipients ?? [], domain);
  return { ...merged, plan, recipients, droppedRecipients: dropped, planDef: config.plans[plan]! };
}

/** Resolves a path in the config (e.g. a rate deck) against the project root. */
export function resolveProjectPath(p: string): string {
  return isAbsolute(p) ? p : resolve(projectRoot, p);
}
