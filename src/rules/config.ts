// A rule as loaded from rules/*.yaml.
import type { Impact, Severity, Tier } from '../domain/classification.js';

export interface RuleConfig {
  id: string;
  when: string;
  classify: { category: string; severity: Severity; impact: Impact; tier: Tier };
  title: string;
  description: string;
  runbook: string;
  /** Signal fields whose values make up the fingerprint, e.g. `target.id`, `rule.id`, `labels.alertname`. */
  dedupBy: string[];
  openAfter: number;
  resolveAfter: number;
  continue: boolean;
  /** Where the rule was written, for messages. */
  file: string;
}
