import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerSql(program: Command): void {
  program
    .command('sql')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe sql is not implemented yet');
    });
}
