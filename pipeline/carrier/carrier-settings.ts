import {
  CARRIER_NAME_PATTERN,
  CARRIER_PRESETS,
  carrierTermSettings,
  type CarrierPreset,
  type CarrierTermSettings,
  type CdrpipeConfig,
} from '../config/index.ts';
import { UsageError } from '../util/errors.ts';
import { CARRIER_FORMATS, type CarrierFormat } from './carrier-formats.ts';

/** One carrier with every default filled in: what import and reconcile work from. */
export interface ResolvedCarrier extends CarrierTermSettings {
  name: string;
  format: CarrierFormat;
  /** Undefined: sniffed from the header line. */
  delimiter?: string;
  /** Zone of timestamps written without an offset. */
  timeZone: string;
}

const isPreset = (name: string): name is CarrierPreset => (CARRIER_PRESETS as readonly string[]).includes(name);

/** Every carrier the config knows: the configured ones plus the presets, which work unconfigured. */
export function carrierNames(config: CdrpipeConfig): string[] {
  return [...new Set([...Object.keys(config.carriers), ...CARRIER_PRESETS])].sort();
}

/**
 * The settings of carrier `name`: its `carriers.<name>` entry over its format's defaults. A preset's
 * name works without an entry (e.g. `generic`). Unknown names are a usage error (exit 2).
 */
export function resolveCarrier(config: CdrpipeConfig, name: string): ResolvedCarrier {
  if (!CARRIER_NAME_PATTERN.test(name)) {
    throw new UsageError(`bad carrier name ${JSON.stringify(name)}: use lower-case letters, digits, "-" and "_"`);
  }
  const entry = config.carriers[name];
  if (entry === undefined && !isPreset(name)) {
    throw new UsageError(
      `unknown carrier ${JSON.stringify(name)}: configure carriers.${name} in jobs.config.ts (known: ${carrierNames(config).join(', ')})`,
    );
  }
  const format: CarrierFormat = entry?.columns
    ? { name: 'custom', columns: entry.columns }
    : CARRIER_FORMATS[entry?.preset ?? (isPreset(name) ? name : 'generic')];
  return {
    name,
    format,
    delimiter: entry?.delimiter,
    timeZone: entry?.timeZone ?? format.timeZone ?? 'UTC',
    ...carrierTermSettings(entry),
  };
}
