// Whether and to whom an opening is announced: its escalation plan (tier, channels, SLA timers),
// the silences that hold its notifications back, the maintenance window that mutes it, and
// flapping, which keeps it quiet while its channels still count as told.
import type { Logger } from '../shared/logger.js';
import type { FingerprintState, StoreOp } from '../store/types.js';
import { heldBackMessage, planOpening, type EscalationContext } from './escalation.js';
import type { BatchDraft } from './batch-draft.js';

/**
 * Plans the escalation of an opening fail op (its draft gets the planned tier, timers and any
 * silence's hold-back) and records its channels; returns whether maintenance mutes it.
 */
export function planOpeningHold(batch: BatchDraft, failOp: Extract<StoreOp, { kind: 'fail' }>, escalation: EscalationContext, logger: Logger): boolean {
  const draft = failOp.draft;
  // Planned only for what should open: repeats (the hot path) skip it. Should the store find
  // otherwise, an unplanned opening is planned and announced by the escalation sweep.
  try {
    const c = draft.classification;
    const subject = { severity: c.severity, tier: c.tier, target: draft.target, check: draft.check, source: draft.source, category: c.category, labels: draft.labels, tenant: draft.tenant };
    const plan = planOpening(subject, failOp.at, escalation);
    draft.classification = { ...draft.classification, tier: plan.tier };
    draft.escalation = plan.escalation;
    if (plan.silenced) draft.heldBack = heldBackMessage(plan.silenced);
    batch.openingChannels.set(failOp, plan.channels);
    return plan.muted !== null;
  } catch (err) {
    // A calendar that never opens must not cost the signal: the sweep retries the plan.
    logger.error({ err, fingerprint: draft.fingerprint }, 'cannot plan escalation; the sweep will retry');
    return false;
  }
}

/**
 * No opened/reopened notification while flapping: the flapping-started one says it all, and an
 * opening kept quiet still counts its channels as told, so they hear the end. Nothing at all
 * while the target is in maintenance: the escalation sweep announces it when the window ends.
 */
export function announceFail(batch: BatchDraft, failOp: StoreOp, st: FingerprintState, muted: boolean): void {
  if (!muted && !st.flapping) batch.announce.add(failOp);
  else if (!muted && batch.openingChannels.has(failOp)) batch.quietOpenings.add(failOp);
}
