import { resolve } from 'node:path';
import { loadConfig, readEnv, readProcessSettings, type EnvConfig } from '../config/index.ts';
import type { CdrpipeConfig } from '../config/index.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { createLogger, type Logger } from '../util/logger.ts';

/** What every orchestration command starts from: validated config and env, the data dir, a logger. */
export interface Runtime {
  config: CdrpipeConfig;
  env: EnvConfig;
  /** Absolute. */
  dataDir: string;
  logger: Logger;
  clock: Clock;
}

/**
 * Reads env and jobs.config.ts (--config, else CDRPIPE_CONFIG; ConfigError, exit 2, naming the
 * bad field), resolves the data dir; the logger defaults to CDRPIPE_LOG_LEVEL's level.
 */
export async function loadRuntime(opts: { configPath?: string; dataDir?: string; logger?: Logger } = {}): Promise<Runtime> {
  const env = readEnv();
  const settings = readProcessSettings();
  const config = await loadConfig(opts.configPath ?? settings.configPath);
  const dataDir = resolve(opts.dataDir ?? env.dataDir);
  return {
    config,
    env: { ...env, dataDir },
    dataDir,
    logger: opts.logger ?? createLogger({ level: settings.logLevel }),
    clock: systemClock,
  };
}
