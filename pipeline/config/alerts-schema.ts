/**
 * The `alerts` part of jobs.config.ts that decides what the toll-fraud and spend rules look for:
 * each rule's thresholds, enabled flag and severity, per-domain overrides, business hours in each
 * domain's own time zone, and the fallback per-minute rates that price calls the deck cannot.
 */
import { z } from 'zod';
import { decimalSchema } from './decimal-schema.ts';

const severitySchema = z.enum(['info', 'warning', 'critical']);

/** `HH:MM`, 00:00 to 24:00. */
const clockTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, { error: 'a local time as "HH:MM", e.g. "08:00"' });

/** Business hours in the domain's own time zone: ISO weekdays (1 = Monday … 7 = Sunday) from `start` to `end`. */
export const businessHoursSchema = z
  .object({
    days: z.array(z.number().int().min(1).max(7)).default([1, 2, 3, 4, 5]),
    start: clockTimeSchema.default('07:00'),
    end: clockTimeSchema.default('20:00'),
  })
  .refine((b) => b.start < b.end, { error: 'start must be before end (a night shift is two domains of hours; ask for it)' });
export type BusinessHours = z.infer<typeof businessHoursSchema>;

const common = { enabled: z.boolean().default(true) };

/** Each rule's settings, with the shipped defaults. Names are the rule files' names (reports/alerts/<rule>.sql). */
export const alertRuleSchemas = {
  'spend-velocity': z.object({
    ...common,
    severity: severitySchema.default('critical'),
    /** Rated outbound charge of one domain in one UTC hour above this always alerts. */
    hourlyCap: decimalSchema.default('100'),
    /** …and so does more than `baselineFactor` × the same hour of the week's average over `baselineWeeks`… */
    baselineFactor: z.number().positive().default(5),
    baselineWeeks: z.number().int().min(1).max(12).default(4),
    /** …once the hour's charge is at least this (a quiet domain's first few dollars are no velocity). */
    baselineFloor: decimalSchema.default('25'),
  }),
  'out-of-hours-high-cost': z.object({
    ...common,
    severity: severitySchema.default('warning'),
    /** International or premium outbound calls started outside business hours, in one UTC hour: at least this many… */
    minCalls: z.number().int().min(1).default(4),
    /** …or at least this charge. */
    minAmount: decimalSchema.default('25'),
  }),
  'new-destination-country': z.object({
    ...common,
    severity: severitySchema.default('warning'),
    /** A country the domain has not called in this many days before the day… */
    historyDays: z.number().int().min(1).max(400).default(90),
    /** …called at least this many times in one UTC day. */
    minCalls: z.number().int().min(1).default(3),
  }),
  concurrency: z.object({
    ...common,
    severity: severitySchema.default('critical'),
    /** Simultaneous international or premium outbound calls of one domain above this… */
    maxPerDomain: z.number().int().min(1).default(5),
    /** …or of one extension above this. */
    maxPerExtension: z.number().int().min(1).default(2),
  }),
  'single-call': z.object({
    ...common,
    severity: severitySchema.default('warning'),
    /** One international or premium call charged above this… */
    maxAmount: decimalSchema.default('50'),
    /** …or longer than this many minutes of talk. */
    maxMinutes: z.number().positive().default(180),
  }),
  'extension-burst': z.object({
    ...common,
    severity: severitySchema.default('critical'),
    /** Outbound calls one extension starts within one minute above this. */
    maxCallsPerMinute: z.number().int().min(1).default(4),
  }),
  wangiri: z.object({
    ...common,
    severity: severitySchema.default('warning'),
    /** Short missed inbound calls from international numbers of one country code, within `windowMinutes`… */
    windowMinutes: z.number().int().min(1).max(60).default(10),
    /** …from at least this many different numbers… */
    minCallers: z.number().int().min(2).default(5),
    /** …each ringing at most this many seconds. */
    maxRingSeconds: z.number().int().min(1).default(10),
  }),
} as const;

export type AlertRuleName = keyof typeof alertRuleSchemas;
export const ALERT_RULE_NAMES = Object.keys(alertRuleSchemas) as AlertRuleName[];
export type AlertRuleSettings = { [K in AlertRuleName]: z.infer<(typeof alertRuleSchemas)[K]> };

const rulesSchema = z.object(
  Object.fromEntries(
    ALERT_RULE_NAMES.map((n) => {
      const schema: z.ZodType = alertRuleSchemas[n];
      return [n, schema.default(schema.parse({}))];
    }),
  ) as {
    [K in AlertRuleName]: z.ZodDefault<(typeof alertRuleSchemas)[K]>;
  },
);

/**
 * A rule's fields, each optional and without its default: a domain's override holds only what it
 * sets, so the rule's own settings (defaults or the reseller's) show through the rest.
 */
function overrideOf(schema: z.ZodObject): z.ZodType {
  const shape = Object.fromEntries(
    Object.entries(schema.shape).map(([k, f]) => [
      k,
      (f instanceof z.ZodDefault ? (f.unwrap() as z.ZodType) : (f as z.ZodType)).optional(),
    ]),
  );
  return z.object(shape).strict();
}

/** A rule's fields, each optional: what a domain overrides. */
type RuleOverrides = { [K in AlertRuleName]?: Partial<AlertRuleSettings[K]> };

/** What a domain may override: any rule field, its business hours. */
const domainOverrideSchema = z.object({
  rules: z
    .object(Object.fromEntries(ALERT_RULE_NAMES.map((n) => [n, overrideOf(alertRuleSchemas[n]).optional()])))
    .strict()
    .default({}) as unknown as z.ZodType<RuleOverrides>,
  businessHours: businessHoursSchema.optional(),
});

/** Destination classes of the rating (the number_class macro) that a fallback rate may price. */
export const FALLBACK_CLASSES = ['domestic', 'international', 'premium', 'toll-free', 'unknown'] as const;

export const alertRulesConfigSchema = z.object({
  /** Off: the alerts evaluation finds nothing. */
  enabled: z.boolean().default(true),
  /** A first evaluation (no cursor yet) looks at calls ingested within this many hours. */
  initialLookbackHours: z.number().min(1).default(48),
  rules: rulesSchema.default(rulesSchema.parse({})),
  businessHours: businessHoursSchema.default(businessHoursSchema.parse({})),
  /**
   * Per-minute price of calls the rate deck does not price (exactly what fraud dials), by
   * destination class: an estimate, and every alert built on one says so.
   */
  fallbackRates: z
    .object({
      domestic: decimalSchema.default('0.05'),
      international: decimalSchema.default('0.50'),
      premium: decimalSchema.default('2.00'),
      'toll-free': decimalSchema.default('0'),
      unknown: decimalSchema.default('0.50'),
    })
    .strict()
    .default({ domestic: '0.05', international: '0.50', premium: '2.00', 'toll-free': '0', unknown: '0.50' }),
  /** Per-domain overrides: `domains: { 'acme.example': { rules: { 'spend-velocity': { hourlyCap: '500' } } } }`. */
  domains: z.record(z.string(), domainOverrideSchema).default({}),
});
export type AlertRulesConfig = z.infer<typeof alertRulesConfigSchema>;
