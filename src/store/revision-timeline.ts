// The timeline entries a revision writes, as both stores write them.
import type { TimelineEntry } from '../domain/incident.js';
import type { IncidentRevision } from './types.js';

/**
 * The revision's entries at its time. An `escalated` entry that names no tier, in a revision that
 * moves the incident to another tier, handed over to that tier: it gets it as its `tier` (the
 * escalations report counts by it), so a caller that writes the move and the entry together need
 * not say it twice.
 */
export function revisionTimeline(revision: IncidentRevision): TimelineEntry[] {
  const to = revision.set.tier;
  const moved = to !== undefined && to !== revision.expect.tier;
  return revision.timeline.map((t) =>
    moved && t.action === 'escalated' && t.tier === undefined ? { at: revision.at, ...t, tier: to } : { at: revision.at, ...t },
  );
}
