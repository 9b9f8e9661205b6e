/**
 * Each rule's effective settings per domain (the defaults, then the domain's overrides), as the
 * rows of the `settings` table a rule's SQL joins: one row per domain where the rule is enabled,
 * one column per setting in snake_case, plus the domain's business hours.
 */
import type { AlertRuleName, AlertRulesConfig, BusinessHours } from '../config/index.ts';

/** One domain's settings for one rule, keyed by column name. */
export type SettingsRow = Record<string, string | number | boolean | number[]>;

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The merged settings of `rule` for each domain; domains where it is disabled are left out. */
export function ruleSettingsRows(alerts: AlertRulesConfig, rule: AlertRuleName, domains: readonly string[]): SettingsRow[] {
  const rows: SettingsRow[] = [];
  for (const domain of domains) {
    const override = alerts.domains[domain];
    const merged: Record<string, unknown> = { ...alerts.rules[rule], ...(override?.rules[rule] ?? {}) };
    if (merged.enabled === false) continue;
    const hours: BusinessHours = override?.businessHours ?? alerts.businessHours;
    const row: SettingsRow = { domain };
    for (const [k, v] of Object.entries(merged)) {
      if (k === 'enabled' || v === undefined) continue;
      row[snake(k)] = v as string | number | boolean;
    }
    row.business_days = [...hours.days];
    row.business_start = hours.start;
    row.business_end = hours.end;
    rows.push(row);
  }
  return rows;
}

/** Which settings are money (decimal text): typed DECIMAL in the table, so rules compare exactly. */
export function isMoneySetting(column: string): boolean {
  return /(_cap|_amount|_floor)$/.test(column);
}
