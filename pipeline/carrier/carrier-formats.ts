import type { CarrierPreset } from '../config/index.ts';

/** Where each field of a carrier record is found: header names as the carrier writes them. */
export interface CarrierColumnMap {
  /** Absent: the record is known by its file and line instead. */
  callId?: string;
  /** The moment the call was answered: the carrier's billing start. */
  startTime: string;
  from: string;
  to: string;
  billedSeconds?: string;
  billedMinutes?: string;
  cost: string;
  /** Absent: every cost is in the carrier's configured currency. */
  currency?: string;
}

/** A file format: its columns, and what the carrier's own export fixes about separators and time. */
export interface CarrierFormat {
  /** The preset's name, or `custom` for a mapping in jobs.config.ts. */
  name: string;
  columns: CarrierColumnMap;
  /** The separator the carrier's export uses (import sniffs it from the header anyway; the simulator writes it). */
  delimiter?: string;
  /** Zone of timestamps written without an offset, when the export fixes one. */
  timeZone?: string;
  /** The carrier's own description of the export, for the record. */
  documentedAt?: string;
}

/**
 * The built-in formats. `generic` is the contract's; the others follow the carriers' published
 * export descriptions (docs/carrier.md cites them).
 */
export const CARRIER_FORMATS: Readonly<Record<CarrierPreset, CarrierFormat>> = {
  generic: {
    name: 'generic',
    columns: { callId: 'call_id', startTime: 'start_time', from: 'from', to: 'to', billedSeconds: 'billed_seconds', cost: 'cost' },
    delimiter: ',',
    timeZone: 'UTC',
  },
  // DIDWW outbound call logs (cdr_out export, delivered as .csv.gz): UTC timestamps without an
  // offset; the connect time is the answer time; the charge is in USD.
  didww: {
    name: 'didww',
    columns: {
      callId: 'Call ID',
      startTime: 'Date/Time Connect (UTC)',
      from: 'Source',
      to: 'Destination Number',
      billedSeconds: 'Billing Duration (sec)',
      cost: 'Charged (USD)',
    },
    delimiter: ',',
    timeZone: 'UTC',
    documentedAt: 'https://doc.didww.com/api3/2026-04-16/export/get-csv-file-of-export.html',
  },
  // Sinch voice CDRs as downloaded from the dashboard: semicolon separated, answer time, amount
  // and currency per record.
  sinch: {
    name: 'sinch',
    columns: {
      callId: 'CallId',
      startTime: 'AnswerTime',
      from: 'From',
      to: 'To',
      billedSeconds: 'Duration',
      cost: 'Amount',
      currency: 'Currency',
    },
    delimiter: ';',
    timeZone: 'UTC',
    documentedAt: 'https://developers.sinch.com/docs/voice-rest-api-cdr',
  },
};

/** The header names a format needs, by field, in a stable order (for messages and SQL). */
export function requiredHeaders(columns: CarrierColumnMap): { field: keyof CarrierColumnMap; header: string }[] {
  const order: (keyof CarrierColumnMap)[] = ['callId', 'startTime', 'from', 'to', 'billedSeconds', 'billedMinutes', 'cost', 'currency'];
  return order.flatMap((field) => (columns[field] === undefined ? [] : [{ field, header: columns[field] }]));
}
