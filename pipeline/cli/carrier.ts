import type { Command } from 'commander';
import { registerCarrierImport } from './carrier-import.ts';
import { registerCarrierReconcile } from './carrier-reconcile.ts';

/** `cdrpipe carrier …`: the cost side (carrier CDR files in, matched against the PBX's calls). */
export function registerCarrier(program: Command): void {
  const carrier = program
    .command('carrier')
    .description("carriers' CDR files: import them into the lake and reconcile them with the PBX's calls");
  registerCarrierImport(carrier);
  registerCarrierReconcile(carrier);
}
