import { cronError } from '../util/cron.ts';
import { z } from 'zod';
import { mailAddressProblem } from '../util/mail-address.ts';
import { isKnownZone } from '../util/zone-time.ts';
import { alertDeliverySchema } from './alert-delivery-schema.ts';
import { alertRulesConfigSchema } from './alerts-schema.ts';
import { decimalSchema } from './decimal-schema.ts';

/** A time zone name the runtime's ICU knows (IANA names and their aliases, e.g. US/Pacific). */
export const timeZoneSchema = z.string().refine((tz) => isKnownZone(tz), {
  error: (iss) => `unknown time zone ${JSON.stringify(iss.input)} (use an IANA name such as America/New_York)`,
});

export { decimalSchema };

/** Exactly one RFC 5321 address, e.g. ops@acme.example (no name, no list). */
export const mailAddressSchema = z.string().superRefine((v, ctx) => {
  const problem = mailAddressProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The placeholder host a `{domain}` recipient is checked with: the real name is checked per domain at send time. */
export const DOMAIN_PLACEHOLDER_HOST = 'domain.example';

/** One recipient address in which `{domain}` may stand for the customer's domain name. */
export const recipientTemplateSchema = z.string().superRefine((v, ctx) => {
  const filled = v.replaceAll('{domain}', DOMAIN_PLACEHOLDER_HOST);
  const problem = mailAddressProblem(filled);
  if (problem)
    ctx.addIssue({ code: 'custom', message: filled === v ? problem : `${problem} (reading {domain} as ${DOMAIN_PLACEHOLDER_HOST})` });
});

/** Rating rule for calls without a deck lookup (inbound, toll-free inbound). */
export const flatRuleSchema = z.object({
  perMinute: decimalSchema,
  initialIncrement: z.number().int().min(1).default(60),
  subsequentIncrement: z.number().int().min(1).default(60),
  minimumSeconds: z.number().int().min(0).default(0),
  connectFee: decimalSchema.default('0'),
});
export type FlatRule = z.infer<typeof flatRuleSchema>;

export const planSchema = z.object({
  /** Shown on invoices and recorded on each rated row; bump it when prices change. */
  version: z.string().min(1),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 code such as USD' })
    .default('USD'),
  /** Rounding of each call line's charge, half-up. */
  decimals: z.number().int().min(0).max(6).default(2),
  /** CSV: prefix,description,per_minute,initial_increment,subsequent_increment,minimum_seconds,connect_fee,effective_from */
  rateDeck: z.string().min(1),
  inbound: flatRuleSchema,
  tollFreeInbound: flatRuleSchema,
  /** Monthly pool of included minutes, consumed in call order by outbound billable calls. */
  includedMinutes: z.number().int().min(0).default(0),
});
export type Plan = z.infer<typeof planSchema>;

export const customerSchema = z.object({
  plan: z.string().min(1).optional(),
  /**
   * One address per entry; `{domain}` is replaced by the customer's domain name, and a domain
   * name that is not a DNS host name gives no recipient (an anomaly says so).
   */
  recipients: z.array(recipientTemplateSchema).optional(),
  includedMinutes: z.number().int().min(0).optional(),
  displayName: z.string().optional(),
  /** Overrides the time zone reported by the PBX for this domain. */
  timeZone: timeZoneSchema.optional(),
  /** Set false to leave this domain out of customer reports. */
  reports: z.boolean().optional(),
});
export type CustomerSettings = z.infer<typeof customerSchema>;

export const ingestSettingsSchema = z.object({
  concurrency: z.number().int().min(1).max(64).default(4),
  requestsPerSecond: z.number().positive().optional(),
  lookbackHours: z.number().min(0).default(48),
  settleMinutes: z.number().min(0).default(15),
  rowBudget: z.number().int().min(1000).default(20_000),
  minWindowMinutes: z.number().min(1).default(5),
  /** Widest window when counting is unavailable, in days (a window never spans two UTC months anyway). */
  maxWindowDays: z.number().min(1).max(31).default(31),
  pageSize: z.number().int().min(1).max(1000).default(1000),
  /** Where the first incremental run starts for a domain without a watermark. */
  initialBackfillDays: z.number().int().min(0).default(35),
  /**
   * How old the stored domain list may be before an incremental run pages `GET /domains` again
   * (a backfill always asks; so does a reseller-wide run that meets a record of an unlisted
   * domain). 0 asks every run.
   */
  domainListMaxAgeMinutes: z.number().min(0).default(60),
});
export type IngestSettings = z.infer<typeof ingestSettingsSchema>;

/** Mail delivery: how hard the SMTP server is driven. */
export const deliverySettingsSchema = z.object({
  /**
   * SMTP connections kept open at once; also the messages in flight. Default: 16 toward a relay on
   * loopback (a local MTA accepts in parallel what it queues), 4 toward any other server.
   */
  smtpConnections: z.number().int().min(1).max(32).optional(),
  /**
   * Messages per second across the connections. Default: no limit for a relay on loopback
   * (a local MTA queues), 5 per second for any other server (providers throttle or block bursts).
   */
  messagesPerSecond: z.number().positive().optional(),
});
export type DeliverySettings = z.infer<typeof deliverySettingsSchema>;

/** What one cdrpipe process may use of the machine (pipeline/config/resource-budget.ts derives the rest). */
export const resourcesSchema = z.object({
  /**
   * The memory budget of one cdrpipe process, in MiB: DuckDB's memory_limit for every database
   * the process opens, the lake writer's lanes and the requests in flight are derived from it.
   * DuckDB spills to `<data dir>/tmp/duckdb` beyond its share.
   */
  memoryMiB: z.number().int().min(192).max(1_048_576).default(512),
});
export type ResourceSettings = z.infer<typeof resourcesSchema>;

export const JOB_TASKS = ['ingest', 'late-sweep', 'monthly-reports', 'reconcile', 'lake-compact', 'alerts', 'carrier-reconcile'] as const;
export type JobTask = (typeof JOB_TASKS)[number];

/** Options each task understands (others are refused, so a typo does not pass silently). */
export const JOB_TASK_OPTIONS: Record<JobTask, readonly string[]> = {
  ingest: [],
  'late-sweep': ['days'],
  'monthly-reports': ['marginDays'],
  reconcile: [],
  // carrier: only this carrier's inbox; previousMonth: also reconcile the previous UTC month (the monthly run).
  'carrier-reconcile': ['carrier', 'previousMonth'],
  'lake-compact': ['minAgeDays'],
  alerts: [],
};

export const jobSchema = z
  .object({
    task: z.enum(JOB_TASKS),
    /** Cron expression (5 or 6 fields, crontab(5) semantics, see util/cron.ts), evaluated in `timeZone`. */
    cron: z.string().superRefine((expr, ctx) => {
      const problem = cronError(expr);
      if (problem) {
        ctx.addIssue({
          code: 'custom',
          message: `not a valid cron expression: ${JSON.stringify(expr)}: ${problem} (5 fields "min hour day month weekday", e.g. "*/15 * * * *" or "0 6 1 * *")`,
        });
      }
    }),
    /** Default: reseller.timeZone. */
    timeZone: timeZoneSchema.optional(),
    enabled: z.boolean().default(true),
    /**
     * Jobs after whose every run (ok or mismatch) the scheduler runs this one at once, e.g. alerts
     * after ingest; its own cron still applies.
     */
    after: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (typeof v === 'string' ? [v] : v))
      .default([]),
    /** Task options: late-sweep { days: 3 }; monthly-reports { marginDays: 1 } (days re-read before the month). */
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((job, ctx) => {
    const known = JOB_TASK_OPTIONS[job.task];
    for (const [key, value] of Object.entries(job.options)) {
      if (!known.includes(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['options', key],
          message: `unknown option for task ${job.task} (known: ${known.join(', ') || 'none'})`,
        });
      } else if (job.task === 'carrier-reconcile') {
        // carrier: a carrier name; previousMonth: true or false.
        const ok = key === 'carrier' ? typeof value === 'string' && CARRIER_NAME_PATTERN.test(value) : typeof value === 'boolean';
        if (!ok) {
          ctx.addIssue({
            code: 'custom',
            path: ['options', key],
            message: `${key === 'carrier' ? 'must be a carrier name' : 'must be true or false'}, got ${JSON.stringify(value)}`,
          });
        }
      } else if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 366) {
        ctx.addIssue({
          code: 'custom',
          path: ['options', key],
          message: `must be a whole number of days from 1 to 366, got ${JSON.stringify(value)}`,
        });
      }
    }
  });
export type JobDefinition = z.infer<typeof jobSchema>;

/** Carrier file formats built in: `generic` (the contract's) and real carriers' own exports. */
export const CARRIER_PRESETS = ['generic', 'didww', 'sinch'] as const;
export type CarrierPreset = (typeof CARRIER_PRESETS)[number];

/** Which header names in a carrier's file hold each field (exactly one of billedSeconds / billedMinutes). */
export const carrierColumnsSchema = z
  .object({
    /** The carrier's record id; without one, a record is known by its file and line. */
    callId: z.string().min(1).optional(),
    /** The moment the call was answered (the carrier's billing start). */
    startTime: z.string().min(1),
    from: z.string().min(1),
    to: z.string().min(1),
    billedSeconds: z.string().min(1).optional(),
    billedMinutes: z.string().min(1).optional(),
    cost: z.string().min(1),
    currency: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.billedSeconds === undefined) === (c.billedMinutes === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['billedSeconds'], message: 'map exactly one of billedSeconds or billedMinutes' });
    }
  });
export type CarrierColumns = z.infer<typeof carrierColumnsSchema>;

/** Carrier names are partition values and file names: lower-case letters, digits, '-' and '_'. */
export const CARRIER_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

export const carrierSchema = z
  .object({
    /** A built-in format; leave out (with no `columns`) for `generic`. */
    preset: z.enum(CARRIER_PRESETS).optional(),
    /** A custom mapping of this carrier's header names, instead of a preset. */
    columns: carrierColumnsSchema.optional(),
    /** Field separator; by default sniffed from the header line among , TAB ; | */
    delimiter: z.enum([',', '\t', ';', '|']).optional(),
    /** IANA zone of timestamps written without an offset (default: the preset's, else UTC). */
    timeZone: timeZoneSchema.optional(),
    /** ISO 4217 code of costs when the file has no currency column (default USD). */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 code such as USD' })
      .optional(),
    /** The carrier's billing increments in seconds (default 6/6). */
    increments: z.object({ initial: z.number().int().min(1), subsequent: z.number().int().min(1) }).optional(),
    /** Buy-side rate deck CSV, the same format as a plan's rateDeck (path relative to the project). */
    buyDeck: z.string().min(1).optional(),
    tolerances: z
      .object({
        /** Carrier start vs the PBX answer time, either way (default 5). */
        timeSeconds: z.number().min(0).optional(),
        /** Carrier seconds over our seconds billed at the carrier's increments (default one subsequent increment). */
        durationSeconds: z.number().min(0).optional(),
        /** Carrier cost vs the buy deck's (default "0.01"). */
        cost: decimalSchema.optional(),
      })
      .optional(),
    /** `carrier reconcile` exits 3 when any of these is exceeded (defaults 0, 0, "0.00"). */
    disputeThresholds: z
      .object({
        disputes: z.number().int().min(0).optional(),
        phantoms: z.number().int().min(0).optional(),
        amount: decimalSchema.optional(),
      })
      .optional(),
    /** Folder the carrier-reconcile task watches for new files (path relative to the project). */
    inbox: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.preset !== undefined && c.columns !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['columns'], message: 'give a preset or a column mapping, not both' });
    }
  });
export type CarrierSettings = z.infer<typeof carrierSchema>;

/** Settings that apply only when the lake is in a bucket (CDRPIPE_LAKE_URL). */
export const storageSettingsSchema = z.object({
  /**
   * The local copy of the bucket's objects (data/lake/) is trimmed to this many MiB after a
   * command, least recently used first; what a command needs is always fetched, even past it.
   */
  cacheMaxMiB: z.number().int().min(16).default(4096),
  /** How long a scheduler's lease in the bucket lasts unless renewed; a standby takes over after it. */
  leaseSeconds: z.number().int().min(10).max(3600).default(60),
});
export type StorageSettings = z.infer<typeof storageSettingsSchema>;

/** `alerts`: what the rules look for (alerts-schema.ts) and who is told (alert-delivery-schema.ts). */
const alertsConfigSchema = alertRulesConfigSchema.extend({
  /** Who is told about an alert, and how. */
  delivery: alertDeliverySchema.default(alertDeliverySchema.parse({})),
});

export const configSchema = z
  .object({
    reseller: z.object({
      name: z.string().min(1).default('Your VoIP provider'),
      timeZone: timeZoneSchema.default('America/New_York'),
      /** The billing team: gets the all-domains billing report and reconciliation alerts. */
      billingEmails: z.array(mailAddressSchema).default([]),
      /** Gets job-failure alerts from the scheduler. */
      operatorEmail: mailAddressSchema.optional(),
    }),
    ingest: ingestSettingsSchema.default(ingestSettingsSchema.parse({})),
    delivery: deliverySettingsSchema.default(deliverySettingsSchema.parse({})),
    resources: resourcesSchema.default(resourcesSchema.parse({})),
    storage: storageSettingsSchema.default(storageSettingsSchema.parse({})),
    plans: z.record(z.string(), planSchema).refine((p) => Object.keys(p).length > 0, { error: 'at least one plan is needed' }),
    customers: z.object({
      defaults: customerSchema.default({}),
      domains: z.record(z.string(), customerSchema).default({}),
    }),
    /** Carriers whose CDR files are imported and reconciled (`generic` and the presets work unconfigured). */
    carriers: z
      .record(z.string().regex(CARRIER_NAME_PATTERN, { error: 'carrier names are lower-case letters, digits, "-" and "_"' }), carrierSchema)
      .default({}),
    jobs: z.record(z.string().regex(/^[a-z0-9-]+$/, { error: 'job names are lower-case words joined by "-"' }), jobSchema),
    /** Toll-fraud and spend alerts: the rules' thresholds, overrides, business hours and fallback rates, and delivery. */
    alerts: alertsConfigSchema.default(alertsConfigSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    for (const [name, job] of Object.entries(config.jobs)) {
      job.after.forEach((other, i) => {
        if (!(other in config.jobs) || other === name) {
          ctx.addIssue({
            code: 'custom',
            path: ['jobs', name, 'after', i],
            message: `must name another job of jobs (${
              Object.keys(config.jobs)
                .filter((j) => j !== name)
                .join(', ') || 'none'
            }), got ${JSON.stringify(other)}`,
          });
        }
      });
    }
  });
export type CdrpipeConfig = z.infer<typeof configSchema>;
export type CdrpipeConfigInput = z.input<typeof configSchema>;
