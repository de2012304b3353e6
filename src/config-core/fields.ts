// Schema pieces every stage's configuration is made of: durations, classification fields, label
// maps, secrets. Each stage that owns a config schema builds it from these, so the same mistake
// gets the same message wherever it is written.
import { z } from 'zod';
import { IMPACTS, SEVERITIES, TIERS } from '../domain/classification.js';
import { parseDuration } from '../shared/duration.js';
import { DURATION_PATTERN, describeValue } from './yaml.js';

export const duration = z
  .string({
    error: (iss) => (iss.input === undefined ? undefined : `expected a duration like "30s", "5m" or "1h30m", got ${describeValue(iss.input)}`),
  })
  .regex(DURATION_PATTERN, {
    error: (iss) => `expected a duration like "30s", "5m" or "1h30m" (units ms, s, m, h, d), got ${describeValue(iss.input)}`,
  });

/** Milliseconds of a duration the schema has already checked (so never null). */
export function ms(text: string): number {
  return parseDuration(text) ?? 0;
}

/** Milliseconds of an optional duration (`null`: none). */
export function msOrNull(text: string | null): number | null {
  return text === null ? null : ms(text);
}

export const classificationFields = {
  severity: z.enum(SEVERITIES).describe('Severity class, lowest first: minor, medium, severe, major.'),
  impact: z.enum(IMPACTS).describe('Who is affected: single-user, multiple-users, site, organisation.'),
  tier: z.enum(TIERS).describe('Support tier that takes it first: L1, L2, L3.'),
};

/** A label value as written: numbers and booleans become text. */
export const labelValue = () => z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

/** A list of secrets (tokens, keys), none empty: an unset `${ENV}` must not become a valid empty one. */
export const secretList = (what: string) =>
  z
    .array(z.string().min(1, { error: `${what} must not be empty (an unset \${ENV} gives an empty one)` }))
    .min(1, { error: `give at least one ${what}` });

export const channelRefs = z
  .array(z.string().min(1))
  .describe('Channel ids (from `channels:`); "*" means every configured channel.');
