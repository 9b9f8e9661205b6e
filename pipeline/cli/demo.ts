import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe demo is not implemented yet');
    });
}
