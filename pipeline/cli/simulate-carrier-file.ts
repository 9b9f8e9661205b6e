import type { Command } from 'commander';
import { EXPORT_FORMATS, exportCarrierFile } from '../carrier/index.ts';
import type { CarrierPreset } from '../config/index.ts';
import { UsageError } from '../util/errors.ts';
import { isMonth } from '../util/month.ts';

function count(flag: string, max = 1_000_000): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > max)
      throw new UsageError(`${flag} must be a whole number from 0 to ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

interface CarrierFileFlags {
  month: string;
  seed: number;
  domains: number;
  volume: number;
  carrier: string;
  phantoms: number;
  inflated: number;
  missing: number;
  offDeck: number;
  skewS: number;
  mixedFormats?: boolean;
  out: string;
  priceList?: string;
}

/** `cdrpipe simulate carrier-file`: a carrier's CDR file for a month of the simulator's calls, with ground truth. */
export function registerSimulateCarrierFile(simulate: Command): void {
  simulate
    .command('carrier-file')
    .description(
      "write a carrier's CDR file for one month of the simulator's calls (same --seed/--domains as `simulate`), with planted discrepancies and <out>.truth.json",
    )
    .requiredOption('--month <month>', 'UTC month, YYYY-MM')
    .requiredOption('--out <file>', 'the carrier file to write (.gz compresses it)')
    .option('--seed <S>', 'seed of the simulated data', count('--seed', 2 ** 32 - 1), 1)
    .option('--domains <N>', 'number of simulated customer domains', count('--domains', 100_000), 20)
    .option('--volume <X>', 'call volume multiplier', (v) => Number(v), 1)
    .option('--carrier <format>', `the file's format: ${EXPORT_FORMATS.join(', ')}`, 'generic')
    .option('--phantoms <n>', 'records of calls the PBX never made', count('--phantoms'), 0)
    .option('--inflated <n>', 'calls billed longer than talked', count('--inflated'), 0)
    .option('--missing <n>', 'PBX calls left off the file', count('--missing'), 0)
    .option('--off-deck <n>', 'calls charged above the price list', count('--off-deck'), 0)
    .option('--skew-s <s>', 'move every start by up to s seconds either way', count('--skew-s', 3600), 0)
    .option('--mixed-formats', 'write numbers in mixed forms (+1…, 1…, (NXX) NXX-XXXX, 011 …)')
    .option('--price-list <file>', "also write the carrier's price list (rate deck CSV, as a plan's rateDeck)")
    .action(async (flags: CarrierFileFlags) => {
      if (!isMonth(flags.month)) throw new UsageError(`--month ${JSON.stringify(flags.month)}: expected YYYY-MM`);
      if (!(EXPORT_FORMATS as string[]).includes(flags.carrier)) {
        throw new UsageError(`--carrier ${JSON.stringify(flags.carrier)}: expected one of ${EXPORT_FORMATS.join(', ')}`);
      }
      const result = await exportCarrierFile({
        month: flags.month,
        seed: flags.seed,
        domains: flags.domains,
        volume: flags.volume,
        carrier: flags.carrier as CarrierPreset,
        out: flags.out,
        phantoms: flags.phantoms,
        inflated: flags.inflated,
        missing: flags.missing,
        offDeck: flags.offDeck,
        skewS: flags.skewS,
        mixedFormats: flags.mixedFormats ?? false,
        ...(flags.priceList ? { priceList: flags.priceList } : {}),
      });
      const c = result.counts;
      process.stdout.write(
        `${result.file}: ${result.lines} lines (${flags.carrier})\n` +
          `  expected: matched ${c.matched}, duration_dispute ${c.duration_dispute}, cost_dispute ${c.cost_dispute}, carrier_only ${c.carrier_only}, pbx_only ${c.pbx_only}\n` +
          `  truth: ${result.truthFile}\n` +
          (result.priceList ? `  price list: ${result.priceList}\n` : ''),
      );
    });
}
