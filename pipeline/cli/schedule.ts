import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerSchedule(program: Command): void {
  program
    .command('schedule')
    .description('not implemented yet')
    .action(() => {
      throw new Error('cdrpipe schedule is not implemented yet');
    });
}
