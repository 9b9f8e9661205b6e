import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe report is not implemented yet');
    });
}
