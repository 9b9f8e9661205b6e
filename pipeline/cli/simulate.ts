import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe simulate is not implemented yet');
    });
}
