import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configSchema, type CdrpipeConfig, type CustomerSettings, type Plan } from './config-schema.ts';
import { ConfigError } from '../util/errors.ts';
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
      throw new ConfigError(`${source}: customers.${name === 'defaults' ? 'defaults' : `domains.${name}`}.plan: no plan named ${JSON.stringify(c.plan)} (plans: ${Object.keys(config.plans).join(', ')})`, 'plan');
    }
  }
  return config;
}

/** Loads jobs.config.ts (or CDRPIPE_CONFIG / an explicit path) and validates it. */
export async function loadConfig(path?: string): Promise<CdrpipeConfig> {
  const file = path ?? process.env.CDRPIPE_CONFIG ?? resolve(projectRoot, 'jobs.config.ts');
  const abs = isAbsolute(file) ? file : resolve(process.cwd(), file);
  if (!existsSync(abs)) throw new ConfigError(`config file not found: ${abs}`, 'CDRPIPE_CONFIG');
  const mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  return parseConfig(mod.default, abs);
}

/**
 * A domain's effective settings: its own entry over the defaults, with `{domain}` filled in.
 * `recipients` holds only valid single addresses; entries that gave none are in `droppedRecipients`.
 */
export function customerFor(config: CdrpipeConfig, domain: string): Required<Pick<CustomerSettings, 'plan' | 'recipients'>> &
  CustomerSettings & { planDef: Plan; droppedRecipients: DroppedRecipient[] } {
  const merged = { ...config.customers.defaults, ...(config.customers.domains[domain] ?? {}) };
  const plan = merged.plan ?? Object.keys(config.plans)[0]!;
  const { recipients, dropped } = resolveRecipients(merged.recipients ?? [], domain);
  return { ...merged, plan, recipients, droppedRecipients: dropped, planDef: config.plans[plan]! };
}

/** Resolves a path in the config (e.g. a rate deck) against the project root. */
export function resolveProjectPath(p: string): string {
  return isAbsolute(p) ? p : resolve(projectRoot, p);
}
