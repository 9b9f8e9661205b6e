import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe run is not implemented yet');
    });
}
