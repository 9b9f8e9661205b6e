import { Command, CommanderError } from 'commander';
import { exitCodeOf, EXIT, redact } from '../util/errors.ts';
import { readDebugFlag } from '../config/index.ts';
import { registerIngest } from './ingest.ts';
import { registerTransform } from './transform.ts';
import { registerReport } from './report.ts';
import { registerReconcile } from './reconcile.ts';
import { registerRun } from './run.ts';
import { registerSchedule } from './schedule.ts';
import { registerStatus } from './status.ts';
import { registerSql } from './sql.ts';
import { registerSimulate } from './simulate.ts';
import { registerDemo } from './demo.ts';
import { registerLake } from './lake.ts';
import { registerAlerts } from './alerts.ts';
import { registerLakeLocation } from './lake-location.ts';
import { commandPath, lakeAccessOf } from './lake-access.ts';
import { closeLakeStores } from '../store/index.ts';
import { registerCarrier } from './carrier.ts';

export function buildProgram(): Command {
  const program = new Command('cdrpipe')
    .description('NetSapiens v2 CDRs into a Parquet lake, rated, reconciled and reported per customer')
    .showHelpAfterError()
    // A command's options stop at its subcommand, so `simulate carrier-file --seed 9` gives the
    // seed to carrier-file, not to simulate (the program itself has no options of its own).
    .enablePositionalOptions()
    .exitOverride()
    // Each command declares its lake access where it is registered (lake-access.ts); --help never gets here.
    .hook('preAction', async (_program, command) => {
      const access = lakeAccessOf(command);
      if (access !== 'none') await registerLakeLocation(commandPath(command), access);
    });
  for (const register of [
    registerIngest,
    registerTransform,
    registerReport,
    registerReconcile,
    registerRun,
    registerSchedule,
    registerStatus,
    registerAlerts,
    registerSql,
    registerLake,
    registerSimulate,
    registerCarrier,
    registerDemo,
  ]) {
    register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; bad usage with a non-zero code.
      return err.exitCode === EXIT.ok ? EXIT.ok : EXIT.usage;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`cdrpipe: ${redact(message)}\n`);
    if (readDebugFlag() && err instanceof Error && err.stack) process.stderr.write(redact(err.stack) + '\n');
    return exitCodeOf(err);
  } finally {
    closeLakeStores();
  }
}

const isEntry = process.argv[1] !== undefined && /(?:main\.[jt]s|cdrpipe(?:\.js)?)$/.test(process.argv[1]);
if (isEntry) {
  const code = await main(process.argv);
  process.exitCode = code;
}
