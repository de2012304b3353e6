// Prometheus Alertmanager's webhook (POST /api/v1/alertmanager), payload version 4 as Alertmanager
// sends it. Fields Alertmanager may add later (or Grafana adds, such as silenceURL) are ignored;
// the ones incidentd uses are checked.
import { z } from 'zod';
import type { SourceConfig } from './config.js';
import type { Signal } from '../domain/signal.js';
import { alertValues, epochMs, labelsHash, parseBody, targetOf } from './types.js';

const stringMap = z.record(z.string(), z.string());

const amAlertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved'], { error: 'must be "firing" or "resolved"' }),
  labels: stringMap,
  annotations: stringMap.default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const alertmanagerPayloadSchema = z.looseObject({
  version: z.literal('4', { error: 'must be "4"; incidentd understands version 4 of the Alertmanager webhook payload' }),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved'], { error: 'must be "firing" or "resolved"' }).optional(),
  receiver: z.string().optional(),
  groupLabels: stringMap.optional(),
  commonLabels: stringMap.optional(),
  commonAnnotations: stringMap.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(amAlertSchema),
});

export type AlertmanagerPayload = z.output<typeof alertmanagerPayloadSchema>;

// zod's compiled fast path, as for generic alerts: the same result, and the same issues (an invalid
// payload is parsed again by the runtime parser).
const compiledPayloadSchema = z.compile(alertmanagerPayloadSchema);

/**
 * Validates the whole payload (throws InvalidAlertsError) and turns every alert into a signal:
 * firing → fail, resolved → ok of the same series (the alert's fingerprint, else its labels).
 */
export function alertmanagerSignals(body: unknown, source: SourceConfig, now: number): Signal[] {
  const payload = parseBody(compiledPayloadSchema, body);
  return payload.alerts.map((a): Signal => {
    const alertname = a.labels.alertname ?? 'alert';
    const annotations = { ...a.annotations };
    if (a.generatorURL) annotations.generatorURL = a.generatorURL;
    const labels = { ...source.labels, ...a.labels };
    const site = source.target.siteLabel !== null ? a.labels[source.target.siteLabel] : undefined;
    // The configured label, else the two that alert rules commonly name a machine by; an alert
    // with none of them (an aggregate, say) is about the source as a whole.
    const id = a.labels[source.target.fromLabel] || a.labels.instance || a.labels.host || source.id;
    return {
      source: source.id,
      target: targetOf(source, { id, site }),
      check: { name: alertname, type: source.type },
      status: a.status === 'firing' ? 'fail' : 'ok',
      message: a.annotations.summary ?? a.annotations.description ?? a.annotations.message ?? alertname,
      values: alertValues(undefined, a.labels.severity, epochMs(a.startsAt), epochMs(a.endsAt)),
      labels,
      annotations,
      // Receipt time, not startsAt: Alertmanager re-sends an alert with the same startsAt, and the
      // manager's windows (flapping, reopen) count arrivals.
      at: now,
      dedupKey: a.fingerprint || labelsHash(a.labels),
    };
  });
}
