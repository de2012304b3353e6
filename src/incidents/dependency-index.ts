// Dependency suppression (a target's depends_on): which parent targets have an active incident, so
// a child that fails while its parent is down is recorded on the parent's incident instead of
// opening its own.
import type { TargetRef } from '../domain/signal.js';
import type { FingerprintState } from '../store/types.js';

export class DependencyIndex {
  /**
   * Parent targets (named in someone's depends_on) → fingerprints with an active incident. Only
   * parents are indexed: nothing ever looks up the others.
   */
  private readonly activeByTarget = new Map<string, string[]>();
  private parentIds = new Set<string>();
  /** The targets the index was built for, and each target's ancestors (computed once per target). */
  private built: { targets: ReadonlyMap<string, TargetRef>; ancestors: Map<string, string[]> } | null = null;

  /**
   * Targets changed (start or reload): recompute which are parents and rebuild their index from
   * the states. Cheap when the targets are the same map as last time.
   */
  sync(targets: ReadonlyMap<string, TargetRef>, states: Iterable<FingerprintState>): void {
    if (this.built?.targets === targets) return;
    this.built = { targets, ancestors: new Map() };
    this.parentIds = new Set([...targets.values()].flatMap((t) => t.dependsOn));
    this.activeByTarget.clear();
    for (const st of states) if (st.active !== null) this.setActive(st, true);
  }

  /** The state's fingerprint has (or no longer has) an active incident. */
  setActive(st: FingerprintState, active: boolean): void {
    if (!this.parentIds.has(st.targetId)) return;
    // Arrays, not Sets: almost every target has one active fingerprint, and a Set costs far more.
    const list = this.activeByTarget.get(st.targetId);
    if (active) {
      if (!list) this.activeByTarget.set(st.targetId, [st.fingerprint]);
      else if (!list.includes(st.fingerprint)) this.activeByTarget.set(st.targetId, list.concat(st.fingerprint));
    } else if (list) {
      const i = list.indexOf(st.fingerprint);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.activeByTarget.delete(st.targetId);
    }
  }

  /** The fingerprint of an active incident on any (transitive) parent of the target, or null. */
  activeParent(targetId: string): string | null {
    if (this.activeByTarget.size === 0) return null;
    for (const parent of this.ancestors(targetId)) {
      const list = this.activeByTarget.get(parent);
      if (list && list.length > 0) return list[0]!;
    }
    return null;
  }

  private ancestors(targetId: string): string[] {
    if (this.built === null) return [];
    const { targets, ancestors } = this.built;
    const hit = ancestors.get(targetId);
    if (hit) return hit;
    const out: string[] = [];
    const seen = new Set<string>([targetId]);
    const stack = [...(targets.get(targetId)?.dependsOn ?? [])];
    while (stack.length > 0) {
      const id = stack.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(id);
      stack.push(...(targets.get(id)?.dependsOn ?? []));
    }
    ancestors.set(targetId, out);
    return out;
  }
}
