import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe status is not implemented yet');
    });
}
