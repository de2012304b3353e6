// Incidents and events as the manager produces them, for the channel tests.
import { emptyEscalation, type Incident } from '../../src/domain/incident.js';
import type { IncidentEvent, IncidentEventType } from '../../src/notify/types.js';

export const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

export function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    number: 'INC-000123',
    seq: 123,
    fingerprint: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    tenant: 'default',
    status: 'open',
    title: 'Printer 3F offline',
    description: 'The printer on the 3rd floor answers no pings.',
    runbook: 'Check the power and the network cable; then restart the print spooler on ps-01.',
    category: 'printing',
    severity: 'severe',
    impact: 'site',
    tier: 'L1',
    priority: 'P2',
    ruleId: 'printer-down',
    source: 'probe',
    target: { id: 'printer-3f', kind: 'printer', name: 'Printer 3F', site: 'hq', labels: { floor: '3' } },
    check: { name: 'ping', type: 'icmp' },
    labels: { team: 'workplace' },
    firstSeen: T0,
    lastSeen: T0 + 60_000,
    occurrences: 3,
    lastMessage: '100% packet loss',
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    closedAt: null,
    reopenCount: 0,
    flapping: false,
    related: [],
    escalation: emptyEscalation(),
    notified: [],
    tickets: {},
    subscribers: [],
    timeline: [{ at: T0 + 60_000, actor: 'printer-down', action: 'opened', message: 'opened after 3 failures' }],
    ...overrides,
  };
}

let seq = 0;

export function event(type: IncidentEventType, inc: Incident = incident(), extra: Partial<IncidentEvent> = {}): IncidentEvent {
  seq += 1;
  return { id: `evt-${seq}-${type}`, type, at: T0 + seq * 1000, incident: inc, ...extra };
}
