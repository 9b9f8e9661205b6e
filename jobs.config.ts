import { defineConfig } from 'cdrpipe';

/**
 * What the scheduler runs, and how customers are billed and reported.
 * Validated at start: a bad field stops the process with exit code 2 and names the field.
 */
export default defineConfig({
  reseller: {
    name: 'Example Voice Co.',
    timeZone: 'America/New_York',
    billingEmails: ['billing@reseller.example'],
    operatorEmail: 'ops@reseller.example',
  },

  ingest: {
    concurrency: 4,
    lookbackHours: 48,
    settleMinutes: 15,
    rowBudget: 20_000,
    minWindowMinutes: 5,
  },

  plans: {
    standard: {
      version: '2026-01',
      currency: 'USD',
      decimals: 2,
      rateDeck: 'reports/rates/standard.csv',
      inbound: { perMinute: '0.0090', initialIncrement: 6, subsequentIncrement: 6 },
      tollFreeInbound: { perMinute: '0.0250', initialIncrement: 6, subsequentIncrement: 6 },
      includedMinutes: 500,
    },
  },

  customers: {
    // Every domain the PBX has gets these unless listed below. `{domain}` is the domain name.
    defaults: { plan: 'standard', recipients: ['usage@{domain}'] },
    domains: {},
  },

  jobs: {
    ingest: { task: 'ingest', cron: '*/15 * * * *' },
    'late-sweep': { task: 'late-sweep', cron: '30 2 * * *', options: { days: 3 } },
    'monthly-reports': { task: 'monthly-reports', cron: '0 6 1 * *' },
    reconcile: { task: 'reconcile', cron: '0 7 * * *' },
    // Carrier files: every 5 minutes, imports what landed in each carriers.<name>.inbox (then moves
    // it to processed/ or failed/) and reconciles the months it touched (docs/carrier.md).
    'carrier-reconcile': { task: 'carrier-reconcile', cron: '*/5 * * * *' },
    // The month's cost side once its files are in: every carrier's previous UTC month.
    'carrier-monthly': { task: 'carrier-reconcile', cron: '0 8 3 * *', options: { previousMonth: true } },
    // Closed months (ended 7 days ago) into a few files sorted by domain: cheap for object-store engines.
    'lake-compact': { task: 'lake-compact', cron: '0 4 8 * *', options: { minAgeDays: 7 } },
    // Toll-fraud and spend alerts: right after every ingest, and hourly should ingest be paused.
    alerts: { task: 'alerts', cron: '7 * * * *', after: ['ingest', 'late-sweep'] },
  },

  alerts: {
    delivery: {
      // Each alert goes to reseller.operatorEmail; domainContacts: true also mails the domain's recipients.
      email: { operator: true, domainContacts: false },
      // A signed JSON POST per alert (secret: CDRPIPE_ALERT_WEBHOOK_SECRET); format 'slack' for a Slack webhook.
      // webhook: { url: 'https://hooks.example.com/cdrpipe', format: 'json' },
    },
  },
});
