// A signal written by hand (JSON or YAML) for `incidentd rules explain SIGNAL.json` and rule unit
// tests: only what matters for the rules needs to be given, the rest is filled with defaults.
import { z } from 'zod';
import type { Signal } from '../domain/signal.js';

const stringMap = z.record(z.string(), z.string());

const targetInputSchema = z
  .strictObject({
    id: z.string().min(1),
    kind: z.string().min(1).default('server'),
    /** Defaults to the id. */
    name: z.string().optional(),
    site: z.string().default(''),
    labels: stringMap.default({}),
    dependsOn: z.array(z.string()).optional(),
    /** The spelling used in probe files; accepted here too so a target can be pasted over. */
    depends_on: z.array(z.string()).optional(),
  })
  .refine((t) => t.dependsOn === undefined || t.depends_on === undefined, {
    message: 'give dependsOn or depends_on, not both',
    path: ['depends_on'],
  });

export const signalInputSchema = z.strictObject({
  source: z.string().min(1).default('probe'),
  target: targetInputSchema,
  check: z.strictObject({
    name: z.string().min(1),
    /** Defaults to the check name. */
    type: z.string().min(1).optional(),
  }),
  /** Rules only look at failing signals, so that is the default. */
  status: z.enum(['ok', 'fail']).default('fail'),
  message: z.string().default(''),
  values: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
  labels: stringMap.default({}),
  annotations: stringMap.default({}),
  /** Epoch milliseconds, or an ISO 8601 date-time with offset such as 2026-01-01T10:00:00Z. */
  at: z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })]).default(0),
});

export type SignalInput = z.infer<typeof signalInputSchema>;

export function signalFromInput(input: SignalInput): Signal {
  const t = input.target;
  return {
    source: input.source,
    target: {
      id: t.id,
      kind: t.kind,
      name: t.name ?? t.id,
      site: t.site,
      labels: { ...t.labels },
      dependsOn: [...(t.dependsOn ?? t.depends_on ?? [])],
    },
    check: { name: input.check.name, type: input.check.type ?? input.check.name },
    status: input.status,
    message: input.message,
    values: { ...input.values },
    labels: { ...input.labels },
    annotations: { ...input.annotations },
    at: typeof input.at === 'number' ? input.at : Date.parse(input.at),
  };
}
