import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe ingest is not implemented yet');
    });
}
