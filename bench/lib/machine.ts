import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { MachineInfo } from './types.ts';

/** Reads the DuckDB engine version the pipeline links against. */
async function duckdbVersion(): Promise<string> {
  try {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(':memory:');
    const con = await inst.connect();
    const reader = await con.runAndReadAll('SELECT version() AS v');
    const v = String(reader.getRowObjectsJson()[0]?.v ?? 'unknown');
    con.closeSync();
    inst.closeSync();
    return v;
  } catch {
    return 'unknown';
  }
}

/** The CPU model from /proc/cpuinfo when os.cpus() only says the vendor. */
function cpuModel(): string {
  const fromOs = os.cpus()[0]?.model?.trim() ?? '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info);
    if (m?.[1] && m[1].trim().length > fromOs.length) return m[1].trim();
  } catch {
    // not Linux: os.cpus() is all there is
  }
  return fromOs || 'unknown';
}

export async function machineInfo(now: Date): Promise<MachineInfo> {
  return {
    cpuModel: cpuModel(),
    cores: os.availableParallelism(),
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    duckdb: await duckdbVersion(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: now.toISOString(),
  };
}
