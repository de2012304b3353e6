// A tenant with an escalation policy of its own: its incidents start at its tiers with its SLA and
// climb by its waits; everyone else's follow the global policy.
import { describe, expect, it } from 'vitest';
import { defaultDaemonConfig } from '../../src/config/load.js';
import { emptyEscalation, type Incident } from '../../src/domain/incident.js';
import { escalationContext, evaluate, planOpening } from '../../src/incidents/escalation.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);

function contexts() {
  const global = structuredClone(defaultDaemonConfig().escalation);
  for (const s of ['minor', 'medium', 'severe', 'major'] as const) global.severities[s].businessHours = false;
  const acme = structuredClone(global);
  acme.severities.medium = { ...acme.severities.medium, tier: 'L2', ackMs: 10 * MIN, resolveMs: 60 * MIN };
  acme.tiers.L2 = { ...acme.tiers.L2, channels: ['acme-pager'], escalateAfterMs: 5 * MIN };
  return escalationContext(global, ['l1-mail', 'acme-pager'], { tenantPolicies: new Map([['acme', acme]]) });
}

const subject = (tenant?: string) => ({
  severity: 'medium' as const,
  tier: 'L1' as const,
  target: { id: 'printer-3f', kind: 'printer', name: 'Printer 3F', site: '', labels: {} },
  ...(tenant === undefined ? {} : { tenant }),
});

describe('escalation per tenant', () => {
  it('a tenant\'s own policy sets the starting tier, the channels and the SLA of its openings', () => {
    const ctx = contexts();
    const own = planOpening(subject('acme'), T0, ctx);
    expect(own).toMatchObject({ tier: 'L2', channels: ['acme-pager'] });
    expect(own.escalation).toMatchObject({ ackDueAt: T0 + 10 * MIN, resolveDueAt: T0 + 60 * MIN, nextEscalationAt: T0 + 5 * MIN });
    // Another tenant and the default tenant: the global policy (medium: L1, ack 4h).
    for (const other of [planOpening(subject('globex'), T0, ctx), planOpening(subject(), T0, ctx)]) {
      expect(other).toMatchObject({ tier: 'L1', channels: ['l1-mail', 'acme-pager'] });
      expect(other.escalation.ackDueAt).toBe(T0 + 4 * 60 * MIN);
    }
  });

  it('the sweep climbs a tenant\'s incident by its own waits', () => {
    const ctx = contexts();
    const plan = planOpening(subject('acme'), T0, ctx);
    const incident = {
      number: 'INC-000001',
      tenant: 'acme',
      status: 'open',
      severity: 'medium',
      tier: plan.tier,
      firstSeen: T0,
      target: subject().target,
      escalation: { ...emptyEscalation(), ...plan.escalation },
    } as unknown as Incident;
    const decision = evaluate(incident, T0 + 5 * MIN, ctx);
    expect(decision.tier).toBe('L3');
    expect(decision.event?.message).toContain('not acknowledged within 5m at L2');
    // The same stored incident in the default tenant is judged by the global wait at L2 (30m).
    expect(evaluate({ ...incident, tenant: 'default' }, T0 + 5 * MIN, ctx).event?.message).toContain('not acknowledged within 30m at L2');
  });
});
