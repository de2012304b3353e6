// A rule as written in rules/*.yaml (the schema, also published as JSON Schema) and as loaded.
// The `file` a rule came from is not in the YAML, so the loader adds it with toRuleConfig.
import { z } from 'zod';
import { classificationFields } from '../config-core/fields.js';
import { describeValue } from '../config-core/yaml.js';
import { DEFAULT_DEDUP_BY } from './dedup.js';

export const ruleSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
      error: (iss) => `rule id must contain only letters, digits, ".", "_", "-", got ${describeValue(iss.input)}`,
    })
    .describe('Unique id of the rule across all rule files.'),
  when: z
    .string()
    .min(1)
    .describe('CEL expression over the signal, e.g. `check.type == "http" && values.status >= 500`.'),
  classify: z
    .strictObject({
      category: z.string().min(1).describe('Category, e.g. `network.reachability`, `service.http`.'),
      ...classificationFields,
    })
    .describe('Classification of the incidents this rule opens.'),
  title: z.string().min(1).describe('Incident title (mustache template over the signal, e.g. `{{target.name}} is down`).'),
  description: z.string().default('').describe('Incident description (mustache template).'),
  runbook: z.string().default('').describe('What to do first; self-help text for L1 (mustache template).'),
  hint: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe('Self-help for the people who report this problem in the portal (what to try first, a known workaround): shown on the report form for the category and with the status of the incidents this rule classifies. Plain text, at most 500 characters.'),
  dedup_by: z
    .array(z.string())
    .min(1)
    .default([...DEFAULT_DEDUP_BY])
    .describe('Signal fields whose values make up the fingerprint. Default: target.id, check.name, rule.id.'),
  open_after: z.number().int().min(1).default(1).describe('Consecutive failing signals before an incident opens.'),
  resolve_after: z.number().int().min(1).default(1).describe('Consecutive ok signals before the incident resolves.'),
  continue: z.boolean().default(false).describe('Keep evaluating later rules after this one matched.'),
});

/** A rule as the engine compiles it: the parsed rule plus the file it was written in (for messages). */
export function toRuleConfig(r: z.output<typeof ruleSchema>, file: string) {
  return {
    id: r.id,
    when: r.when,
    classify: { ...r.classify },
    title: r.title,
    description: r.description,
    runbook: r.runbook,
    /** Self-help for reporters; absent: none. */
    ...(r.hint !== undefined ? { hint: r.hint } : {}),
    /** Signal fields whose values make up the fingerprint, e.g. `target.id`, `rule.id`, `labels.alertname`. */
    dedupBy: r.dedup_by,
    openAfter: r.open_after,
    resolveAfter: r.resolve_after,
    continue: r.continue,
    /** Where the rule was written, for messages. */
    file,
  };
}

export type RuleConfig = ReturnType<typeof toRuleConfig>;

export const rulesFileSchema = z
  .strictObject({ rules: z.array(ruleSchema).describe('Rules, evaluated in order; first match wins unless `continue`.') })
  .describe('incidentd rule file (rules/*.yaml): how failing signals become classified incidents.');

export type RulesFile = z.output<typeof rulesFileSchema>;
