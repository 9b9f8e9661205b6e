import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerTransform(program: Command): void {
  program
    .command('transform')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe transform is not implemented yet');
    });
}
