import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe reconcile is not implemented yet');
    });
}
