/**
 * The ok/off verdict of one domain's reconciliation, from its figures alone.
 */
import type { ReconcileRow } from './reconcile-types.ts';

/** Decides ok/off from the figures: counts and seconds must match and no id may repeat. */
export function judge(
  r: Pick<ReconcileRow, 'apiTotal' | 'apiSeconds' | 'lakeTotal' | 'lakeSeconds' | 'duplicateIds' | 'rejects' | 'openAnomalies'> & {
    listedByApi: boolean;
  },
): {
  status: 'ok' | 'off';
  detail: string;
} {
  const off: string[] = [];
  const notes: string[] = [];
  if (!r.listedByApi) off.push('domain is in the lake but the API does not list it');
  if (r.lakeTotal !== r.apiTotal) {
    const d = r.apiTotal - r.lakeTotal;
    off.push(
      `lake has ${r.lakeTotal} CDRs, API ${r.apiTotal} (${d > 0 ? `${d} missing from the lake` : `${-d} more in the lake than the API`})`,
    );
  }
  if (r.lakeSeconds !== r.apiSeconds)
    off.push(
      `lake seconds ${r.lakeSeconds} vs API ${r.apiSeconds} (${r.apiSeconds - r.lakeSeconds > 0 ? '+' : ''}${r.apiSeconds - r.lakeSeconds})`,
    );
  if (r.duplicateIds > 0) off.push(`${r.duplicateIds} CDR id(s) stored more than once`);
  if (r.rejects > 0) (off.length ? off : notes).push(`${r.rejects} rejected record(s) in the month's windows`);
  if (r.openAnomalies > 0) (off.length ? off : notes).push(`${r.openAnomalies} open anomal${r.openAnomalies === 1 ? 'y' : 'ies'}`);
  return off.length > 0 ? { status: 'off', detail: off.join('; ') } : { status: 'ok', detail: notes.join('; ') };
}
