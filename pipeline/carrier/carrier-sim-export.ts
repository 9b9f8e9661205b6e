import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { resolveProjectPath, type CarrierPreset } from '../config/index.ts';
import { Prng, simulatedMonthRecords } from '../simulator/index.ts';
import { RATE_DECK_COLUMNS, parseRateDeck, type RateRow } from '../transform/index.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { formatMoneyText, parseMoney, roundMoney } from '../util/money.ts';
import { CARRIER_FORMATS } from './carrier-formats.ts';
import { formatNumberVariant, toE164 } from './carrier-numbers.ts';

/** Discrepancies planted in an exported carrier file, each with its known outcome. */
export interface CarrierDiscrepancies {
  /** Records for calls the PBX never made: `carrier_only`. */
  phantoms?: number;
  /** Calls billed two to ten increments longer than talked: `duration_dispute`. */
  inflated?: number;
  /** PBX calls left off the file: `pbx_only`. */
  missing?: number;
  /** Calls charged above the price list: `cost_dispute` (when the price list is the carrier's buy deck). */
  offDeck?: number;
  /** Every start moved by up to this many seconds either way (within the time tolerance: still matched). */
  skewS?: number;
  /** Numbers written in mixed forms: +1…, 1…, (NXX) NXX-XXXX, 011 CC …. */
  mixedFormats?: boolean;
}

export interface CarrierExportOptions extends CarrierDiscrepancies {
  /** UTC month, YYYY-MM. */
  month: string;
  seed: number;
  domains: number;
  volume?: number;
  /** The file's format: generic or a real carrier's export. */
  carrier: CarrierPreset;
  /** The carrier file; `.gz` compresses it. Ground truth goes to `<out>.truth.json`. */
  out: string;
  /** Where to write the carrier's price list (the rate deck format of the sell side). */
  priceList?: string;
  /** Carrier billing increments (default 6/6). */
  increments?: { initial: number; subsequent: number };
}

export type CarrierStatus = 'matched' | 'duration_dispute' | 'cost_dispute' | 'carrier_only' | 'pbx_only';

/** What a correct matcher must find, line by line. */
export interface CarrierTruth {
  month: string;
  carrier: CarrierPreset;
  seed: number;
  domains: number;
  /** One entry per carrier record (unanswered attempts are not records). */
  records: { line: number; callId: string; status: CarrierStatus; domain?: string; pbxId?: string }[];
  /** Expected PBX calls left off the file. */
  pbxOnly: { domain: string; id: string }[];
  /** Lines of unanswered attempts (the importer skips them). */
  attempts: number[];
  /** Status counts with the price list configured as the carrier's buy deck. */
  counts: Record<CarrierStatus, number>;
  /** Status counts without a buy deck (no cost disputes: off-deck records are matched). */
  countsWithoutBuyDeck: Record<CarrierStatus, number>;
}

export interface CarrierExportResult {
  file: string;
  truthFile: string;
  priceList?: string;
  lines: number;
  counts: Record<CarrierStatus, number>;
}

/** The carrier's price list: the shipped sell deck's E.164 prefixes at 60 % of the sell price, 6/6. */
export async function carrierPriceList(): Promise<RateRow[]> {
  const sell = parseRateDeck(await readFile(resolveProjectPath('reports/rates/standard.csv'), 'utf8'), 'reports/rates/standard.csv');
  const rows: RateRow[] = sell
    .filter((r) => r.prefix.startsWith('+'))
    .map((r) => ({
      ...r,
      description: `${r.description} (termination)`,
      perMinute: formatMoneyText(roundMoney((parseMoney(r.perMinute) * 6n) / 10n, 4)),
      initialIncrement: 6,
      subsequentIncrement: 6,
      minimumSeconds: 0,
      connectFee: '0.000000',
    }));
  for (let cc = 1; cc <= 9; cc++) {
    if (!rows.some((r) => r.prefix === `+${cc}`)) {
      rows.push({ ...rows[0]!, prefix: `+${cc}`, description: `Rest of zone ${cc}`, perMinute: '0.050000', connectFee: '0.000000' });
    }
  }
  return rows.sort((a, b) => a.prefix.localeCompare(b.prefix));
}

function priceListCsv(rows: RateRow[]): string {
  const line = (r: RateRow) =>
    [r.prefix, r.description, r.perMinute, r.initialIncrement, r.subsequentIncrement, r.minimumSeconds, r.connectFee, r.effectiveFrom]
      .map((v) => csvField(String(v), ','))
      .join(',');
  return [RATE_DECK_COLUMNS.join(','), ...rows.map(line)].join('\n') + '\n';
}

function csvField(v: string, delimiter: string): string {
  return v.includes(delimiter) || /["\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** The price of `e164` on `day` (YYYY-MM-DD): the longest covering prefix, its latest price in effect. */
function rateFor(rows: RateRow[], e164: string, day: string): RateRow {
  let best: RateRow | undefined;
  for (const r of rows) {
    if (!e164.startsWith(r.prefix) || r.effectiveFrom > day) continue;
    if (!best || r.prefix.length > best.prefix.length || (r.prefix.length === best.prefix.length && r.effectiveFrom > best.effectiveFrom))
      best = r;
  }
  if (!best) throw new Error(`the price list covers no prefix of ${e164} on ${day}`);
  return best;
}

function billedSeconds(talk: number, inc: { initial: number; subsequent: number }): number {
  if (talk <= inc.initial) return inc.initial;
  return inc.initial + Math.ceil((talk - inc.initial) / inc.subsequent) * inc.subsequent;
}

/** Cost of `seconds` at the row's price, 4 decimals (half-up), as carriers print it. */
function costOf(row: RateRow, seconds: number): bigint {
  return roundMoney(parseMoney(row.perMinute) * BigInt(seconds), 4, 60n) + parseMoney(row.connectFee);
}

interface CarrierRecord {
  callId: string;
  startMs: number;
  answerMs: number | null;
  talk: number;
  from: string;
  to: string;
  billed: number;
  perMinute: string;
  cost: bigint;
  status: CarrierStatus | 'attempt';
  domain?: string;
  pbxId?: string;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const spaced = (ms: number) => iso(ms).replace('T', ' ').replace('Z', '');

/** The file's header and one line per record, in the carrier's own export layout. */
function render(carrier: CarrierPreset, recs: CarrierRecord[]): { header: string[]; rows: string[][]; delimiter: string } {
  const money = (m: bigint) => formatMoneyText(m, 4);
  if (carrier === 'didww') {
    return {
      delimiter: ',',
      header: [
        'Date/Time Start (UTC)',
        'Date/Time Connect (UTC)',
        'Date/Time End (UTC)',
        'Status',
        'Source',
        'CLI',
        'Destination Number',
        'Call Duration (sec)',
        'Billing Duration (sec)',
        'Disconnect Code',
        'Disconnect Reason',
        'Voice OUT Trunk',
        'Destination Country',
        'Network',
        'Call Type',
        'Rate (USD)',
        'Charged (USD)',
        'Call ID',
      ],
      rows: recs.map((r) => [
        spaced(r.startMs),
        r.answerMs === null ? '' : spaced(r.answerMs),
        spaced((r.answerMs ?? r.startMs) + r.talk * 1000),
        r.answerMs === null ? 'Failed' : 'Success',
        r.from,
        r.from,
        r.to,
        String(r.talk),
        String(r.billed),
        r.answerMs === null ? '487' : '200',
        r.answerMs === null ? 'Request Terminated' : 'Normal Clearing',
        'cdrpipe-out',
        '',
        '',
        r.to.replace(/\D/g, '').startsWith('1') ? 'Local' : 'International',
        r.perMinute,
        money(r.cost),
        r.callId,
      ]),
    };
  }
  if (carrier === 'sinch') {
    return {
      delimiter: ';',
      header: [
        'CallId',
        'UserSpaceId',
        'CallTime',
        'Result',
        'Reason',
        'Duration',
        'AnswerTime',
        'From',
        'To',
        'Amount',
        'Currency',
        'Custom',
        'ApplicationKey',
        'UserId',
        'ToCountryId',
      ],
      rows: recs.map((r) => [
        r.callId,
        '1001',
        iso(r.startMs),
        r.answerMs === null ? 'NOANSWER' : 'ANSWERED',
        r.answerMs === null ? 'TIMEOUT' : 'CALLEEHANGUP',
        String(r.billed),
        r.answerMs === null ? '' : iso(r.answerMs),
        r.from,
        r.to,
        money(r.cost),
        'USD',
        '',
        'cdrpipe-app',
        '',
        '',
      ]),
    };
  }
  return {
    delimiter: ',',
    header: ['call_id', 'start_time', 'from', 'to', 'billed_seconds', 'cost'],
    rows: recs.map((r) => [r.callId, iso(r.answerMs ?? r.startMs), r.from, r.to, String(r.billed), money(r.cost)]),
  };
}

const zeroCounts = (): Record<CarrierStatus, number> => ({
  matched: 0,
  duration_dispute: 0,
  cost_dispute: 0,
  carrier_only: 0,
  pbx_only: 0,
});

/**
 * Writes a carrier CDR file for `month` derived from the simulator's own calls (same seed and
 * domains as `cdrpipe simulate`): every expected call (outbound, answered, a valid E.164 dialled
 * number) billed at the carrier's increments and price list, with the requested discrepancies
 * planted, plus `<out>.truth.json` saying what each line must reconcile to.
 */
export async function exportCarrierFile(opts: CarrierExportOptions): Promise<CarrierExportResult> {
  const inc = opts.increments ?? { initial: 6, subsequent: 6 };
  const rng = new Prng((opts.seed * 2654435761) ^ 0x5eed);
  const prices = await carrierPriceList();
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  const callId = () => (opts.carrier === 'generic' ? `CR-${hex(10)}` : `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`);
  const numberText = (e164: string) =>
    opts.mixedFormats ? formatNumberVariant(e164, rng.int(0, 3)) : opts.carrier === 'didww' ? e164.slice(1) : e164;

  const expected: { domain: string; id: string; startMs: number; answerMs: number; talk: number; from: string; to: string }[] = [];
  const attempts: { startMs: number; from: string; to: string }[] = [];
  for (const { domain, records } of simulatedMonthRecords({
    seed: opts.seed,
    domains: opts.domains,
    volume: opts.volume ?? 1,
    month: opts.month,
  })) {
    for (const r of records) {
      if (Number(r['call-direction']) !== 0) continue;
      const to = toE164(String(r['call-orig-to-user'] ?? r['call-orig-request-user'] ?? ''));
      if (to === null) continue;
      const talk = Number(r['call-talking-duration-seconds'] ?? 0);
      const from = toE164(String(r['call-orig-caller-id'] ?? '')) ?? '+12025550100';
      const startMs = Date.parse(String(r['call-start-datetime']));
      if (talk > 0 && r['call-answer-datetime']) {
        expected.push({ domain, id: String(r.id), startMs, answerMs: Date.parse(String(r['call-answer-datetime'])), talk, from, to });
      } else if (opts.carrier !== 'generic') {
        attempts.push({ startMs, from, to });
      }
    }
  }

  // Disjoint sets of expected calls for each planted discrepancy, picked by the seed.
  const order = expected.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const take = (n = 0) => new Set(order.splice(0, Math.min(n, order.length)));
  const missing = take(opts.missing);
  const inflated = take(opts.inflated);
  const offDeck = take(opts.offDeck);

  const recs: CarrierRecord[] = [];
  const pbxOnly: { domain: string; id: string }[] = [];
  expected.forEach((c, i) => {
    if (missing.has(i)) {
      pbxOnly.push({ domain: c.domain, id: c.id });
      return;
    }
    const rate = rateFor(prices, c.to, iso(c.answerMs).slice(0, 10));
    const billed = billedSeconds(c.talk, inc) + (inflated.has(i) ? rng.int(2, 10) * inc.subsequent : 0);
    let cost = costOf(rate, billed);
    if (offDeck.has(i)) cost = (cost * 3n) / 2n + 50_000n;
    const skew = opts.skewS ? rng.int(-opts.skewS, opts.skewS) : 0;
    recs.push({
      callId: callId(),
      startMs: c.startMs,
      answerMs: c.answerMs + skew * 1000,
      talk: c.talk,
      from: numberText(c.from),
      to: numberText(c.to),
      billed,
      perMinute: formatMoneyText(parseMoney(rate.perMinute), 4),
      cost,
      status: inflated.has(i) ? 'duration_dispute' : offDeck.has(i) ? 'cost_dispute' : 'matched',
      domain: c.domain,
      pbxId: c.id,
    });
  });
  const [y, mo] = opts.month.split('-').map(Number) as [number, number];
  const monthStart = Date.UTC(y, mo - 1, 1);
  const monthMs = Date.UTC(y, mo, 1) - monthStart;
  for (let k = 0; k < (opts.phantoms ?? 0); k++) {
    const to = `+1${rng.int(201, 989)}555${String(rng.int(0, 9999)).padStart(4, '0')}`;
    const startMs = monthStart + 60_000 + Math.floor((rng.next() * (monthMs - 3_600_000)) / 1000) * 1000;
    const talk = rng.int(20, 600);
    const rate = rateFor(prices, to, iso(startMs).slice(0, 10));
    const billed = billedSeconds(talk, inc);
    recs.push({
      callId: callId(),
      startMs,
      answerMs: startMs + 5000,
      talk,
      from: numberText('+12025550100'),
      to: numberText(to),
      billed,
      perMinute: formatMoneyText(parseMoney(rate.perMinute), 4),
      cost: costOf(rate, billed),
      status: 'carrier_only',
    });
  }
  for (const a of attempts) {
    const rate = rateFor(prices, a.to, iso(a.startMs).slice(0, 10));
    recs.push({
      callId: callId(),
      startMs: a.startMs,
      answerMs: null,
      talk: 0,
      from: numberText(a.from),
      to: numberText(a.to),
      billed: 0,
      perMinute: formatMoneyText(parseMoney(rate.perMinute), 4),
      cost: 0n,
      status: 'attempt',
    });
  }
  recs.sort((a, b) => (a.answerMs ?? a.startMs) - (b.answerMs ?? b.startMs) || a.callId.localeCompare(b.callId));

  const { header, rows, delimiter } = render(opts.carrier, recs);
  const text = [header, ...rows].map((r) => r.map((v) => csvField(v, delimiter)).join(delimiter)).join('\r\n') + '\r\n';
  await writeFileAtomic(opts.out, opts.out.endsWith('.gz') ? gzipSync(text) : text);

  const counts = zeroCounts();
  const countsWithoutBuyDeck = zeroCounts();
  const truthRecords: CarrierTruth['records'] = [];
  const attemptLines: number[] = [];
  recs.forEach((r, i) => {
    const line = i + 2;
    if (r.status === 'attempt') {
      attemptLines.push(line);
      return;
    }
    counts[r.status]++;
    countsWithoutBuyDeck[r.status === 'cost_dispute' ? 'matched' : r.status]++;
    truthRecords.push({ line, callId: r.callId, status: r.status, ...(r.domain ? { domain: r.domain, pbxId: r.pbxId! } : {}) });
  });
  counts.pbx_only = countsWithoutBuyDeck.pbx_only = pbxOnly.length;
  const truth: CarrierTruth = {
    month: opts.month,
    carrier: opts.carrier,
    seed: opts.seed,
    domains: opts.domains,
    records: truthRecords,
    pbxOnly,
    attempts: attemptLines,
    counts,
    countsWithoutBuyDeck,
  };
  const truthFile = `${opts.out}.truth.json`;
  await writeFileAtomic(truthFile, JSON.stringify(truth, null, 2) + '\n');
  if (opts.priceList) await writeFileAtomic(opts.priceList, priceListCsv(prices));
  return { file: opts.out, truthFile, ...(opts.priceList ? { priceList: opts.priceList } : {}), lines: recs.length, counts };
}

/** The formats the simulator can write (one per built-in format). */
export const EXPORT_FORMATS = Object.keys(CARRIER_FORMATS) as CarrierPreset[];
