import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../pipeline/cli/main.ts';
import { commandPath, lakeAccessOf } from '../../pipeline/cli/lake-access.ts';

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}

describe('lake access declared per command', () => {
  const commands = allCommands(buildProgram());
  const byAccess = (access: string) =>
    commands
      .filter((c) => lakeAccessOf(c) === access)
      .map(commandPath)
      .sort();

  it('marks exactly the commands that write the lake as writers', () => {
    expect(byAccess('writes')).toEqual(['carrier import', 'demo', 'ingest', 'lake compact', 'run', 'schedule']);
  });

  it('keeps the simulator and its subcommands away from the data directory', () => {
    expect(byAccess('none')).toEqual(['simulate', 'simulate carrier-file']);
  });

  it('treats every other command as a reader', () => {
    const readers = byAccess('reads');
    expect(readers).toEqual(
      expect.arrayContaining(['alerts', 'alerts ack', 'carrier reconcile', 'lake ddl', 'report', 'sql', 'status', 'transform']),
    );
    expect(readers.length + byAccess('writes').length + byAccess('none').length).toBe(commands.length);
  });
});
