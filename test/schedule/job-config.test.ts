import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, projectRoot } from '../../pipeline/config/load-config.ts';
import shipped from '../../jobs.config.ts';
import { jobTimeZone } from '../../pipeline/schedule/job-types.ts';
import { createRealStages } from '../../pipeline/schedule/real-stages.ts';
import { createTaskRegistry } from '../../pipeline/schedule/tasks.ts';
import { currentPlanSnapshots } from '../../pipeline/transform/plan-registry.ts';
import { rateLine } from '../../pipeline/transform/rating.ts';
import { cronError, nextTick } from '../../pipeline/util/cron.ts';
import { systemClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testEnv } from './helpers.ts';

function withJobs(jobs: unknown) {
  return () => parseConfig({ ...(shipped as object), jobs });
}

describe('the shipped jobs.config.ts', () => {
  const load = () => loadConfig(join(projectRoot, 'jobs.config.ts'));

  it('loads as the commands load it, with at least one job', async () => {
    const config = await load();
    expect(Object.keys(config.jobs).length).toBeGreaterThan(0);
  });

  it('gives every job a valid cron with a next run in its time zone, and a task the scheduler has', async () => {
    const config = await load();
    const dataDir = await tempDir('cdrpipe-jobs-');
    const registry = createTaskRegistry(createRealStages({ env: testEnv(dataDir), logger: silentLogger(), dataDir, clock: systemClock }));
    const now = new Date('2026-11-27T12:00:00Z');
    for (const [name, job] of Object.entries(config.jobs)) {
      expect(cronError(job.cron), `jobs.${name}.cron`).toBeUndefined();
      expect(nextTick(job.cron, jobTimeZone(config, job), now).getTime(), `jobs.${name} next run`).toBeGreaterThan(now.getTime());
      expect(Object.keys(registry), `jobs.${name}.task`).toContain(job.task);
    }
  });

  it('has a readable deck for every plan, and every rule a plan prices by rates a call', async () => {
    const config = await load();
    const snapshots = await currentPlanSnapshots(config);
    expect(snapshots.map((s) => s.planId).sort()).toEqual(Object.keys(config.plans).sort());
    for (const { planId, plan, deckRows } of snapshots) {
      expect(deckRows.length, `plans.${planId}.rateDeck rows`).toBeGreaterThan(0);
      const rules = [
        { where: 'inbound', rule: plan.inbound },
        { where: 'tollFreeInbound', rule: plan.tollFreeInbound },
        ...deckRows.map((r) => ({ where: `rateDeck prefix ${r.prefix}`, rule: r })),
      ];
      for (const { where, rule } of rules) {
        const rated = rateLine(61, rule, plan.decimals);
        expect(rated.billableS, `plans.${planId} ${where}`).toBeGreaterThanOrEqual(61);
        expect(rated.charge, `plans.${planId} ${where}`).toMatch(/^\d+\.\d{6}$/);
      }
    }
  });

  it('names the bad field: cron, time zone, option', () => {
    expect(withJobs({ x: { task: 'ingest', cron: '61 * * * *' } })).toThrow(/jobs\.x\.cron: not a valid cron expression: "61/);
    expect(withJobs({ x: { task: 'ingest', cron: '*/5 * * * *', timeZone: 'Mars/Olympus' } })).toThrow(
      /jobs\.x\.timeZone: unknown time zone/,
    );
    expect(withJobs({ x: { task: 'late-sweep', cron: '30 2 * * *', options: { dayz: 3 } } })).toThrow(
      /jobs\.x\.options\.dayz: unknown option for task late-sweep/,
    );
    expect(withJobs({ x: { task: 'late-sweep', cron: '30 2 * * *', options: { days: 0 } } })).toThrow(
      /jobs\.x\.options\.days: must be a whole number/,
    );
    expect(withJobs({ x: { task: 'nightly', cron: '30 2 * * *' } })).toThrow(/jobs\.x\.task/);
  });
});
