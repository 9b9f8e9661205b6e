import { FixedClock } from '../../pipeline/util/clock.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../pipeline/simulator/index.ts';

/** Friday 27 Nov 2026, noon UTC: the pinned "now" of these tests. */
export const NOW = new Date('2026-11-27T12:00:00Z');

export async function start(opts: SimulatorOptions = {}): Promise<{ sim: RunningSimulator; clock: FixedClock }> {
  const clock = new FixedClock(NOW);
  const sim = await startSimulator({ seed: 42, domains: 5, dataFrom: new Date('2026-09-01T00:00:00Z'), clock, ...opts });
  return { sim, clock };
}

export async function get(
  sim: RunningSimulator,
  path: string,
  token = 'x',
): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
  const res = await fetch(sim.url + path, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

export function q(params: Record<string, string | number>): string {
  return '?' + new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
}

/** Records spaced one second apart from `from`, as a test would script them. */
export function makeCdrs(n: number, from: Date, domain = 'paging.example'): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const start = new Date(from.getTime() + i * 1000);
    out.push({
      id: `t${String(i).padStart(6, '0')}`,
      domain,
      'call-direction': i % 4,
      'call-start-datetime': start.toISOString().slice(0, 19) + 'Z',
      'call-answer-datetime': null,
      'call-disconnect-datetime': new Date(start.getTime() + 30_000).toISOString().slice(0, 19) + 'Z',
      'call-total-duration-seconds': 30,
      'call-talking-duration-seconds': i % 2 === 0 ? 25 : '25',
    });
  }
  return out;
}
