import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../pipeline/config/load-config.ts';
import shipped from '../../jobs.config.ts';
import { jobTimeZone } from '../../pipeline/schedule/job-types.ts';

function withJobs(jobs: unknown) {
  return () => parseConfig({ ...(shipped as object), jobs });
}

describe('jobs in jobs.config.ts', () => {
  it('ships the four jobs, in the reseller time zone unless a job says otherwise', () => {
    const c = parseConfig(shipped);
    expect(Object.fromEntries(Object.entries(c.jobs).map(([n, j]) => [n, [j.task, j.cron, jobTimeZone(c, j), j.options]]))).toEqual({
      ingest: ['ingest', '*/15 * * * *', 'America/New_York', {}],
      'late-sweep': ['late-sweep', '30 2 * * *', 'America/New_York', { days: 3 }],
      'monthly-reports': ['monthly-reports', '0 6 1 * *', 'America/New_York', {}],
      reconcile: ['reconcile', '0 7 * * *', 'America/New_York', {}],
    });
  });

  it('names the bad field: cron, time zone, option', () => {
    expect(withJobs({ x: { task: 'ingest', cron: '61 * * * *' } })).toThrow(/jobs\.x\.cron: not a valid cron expression: "61/);
    expect(withJobs({ x: { task: 'ingest', cron: '*/5 * * * *', timeZone: 'Mars/Olympus' } })).toThrow(/jobs\.x\.timeZone: unknown time zone/);
    expect(withJobs({ x: { task: 'late-sweep', cron: '30 2 * * *', options: { dayz: 3 } } })).toThrow(/jobs\.x\.options\.dayz: unknown option for task late-sweep/);
    expect(withJobs({ x: { task: 'late-sweep', cron: '30 2 * * *', options: { days: 0 } } })).toThrow(/jobs\.x\.options\.days: must be a whole number/);
    expect(withJobs({ x: { task: 'nightly', cron: '30 2 * * *' } })).toThrow(/jobs\.x\.task/);
  });
});
