/**
 * MiB in a DuckDB memory size such as '126MiB', '256MB', '1.5GB' or '2GiB' (KB, MB, GB, TB are
 * powers of 1000 and KiB, MiB, GiB, TiB powers of 1024, as DuckDB reads them). Throws on
 * anything else, naming the value.
 */
export function duckdbSizeMiB(size: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|bytes|kb|mb|gb|tb|kib|mib|gib|tib)\s*$/i.exec(size);
  if (!m) throw new Error(`not a DuckDB memory size: ${JSON.stringify(size)} (expected e.g. 256MB or 126MiB)`);
  const unit = m[2]!.toLowerCase();
  const powers: Record<string, number> = {
    b: 1,
    bytes: 1,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    tb: 1e12,
    kib: 2 ** 10,
    mib: 2 ** 20,
    gib: 2 ** 30,
    tib: 2 ** 40,
  };
  return (Number(m[1]) * powers[unit]!) / 2 ** 20;
}
