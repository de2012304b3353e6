// Checks across probe files: depends_on names a known target, not itself, and no cycle.
import type { TargetConfig } from '../config-core/types.js';
import { didYouMean, issueAt, type ConfigPath } from '../config-core/yaml.js';
import type { IssueList } from './issues.js';
import type { TargetSite } from './probe-targets.js';

export function checkDependencies(
  targets: TargetConfig[],
  sites: Map<string, TargetSite>,
  incomplete: boolean,
  issues: IssueList,
): void {
  const byId = new Map(targets.map((t) => [t.id, t]));
  const depPath = (t: TargetConfig, k: number): ConfigPath => ['targets', sites.get(t.id)!.index, 'depends_on', k];

  // A did-you-mean compares with every id: fine for a few unknown names, not for thousands of them
  // in an inventory of thousands, so only the first ones get a suggestion.
  const ids = [...sites.keys()];
  let suggestionsLeft = Math.max(1, Math.floor(200_000 / Math.max(1, ids.length)));
  for (const t of targets) {
    const src = sites.get(t.id)!.src;
    t.dependsOn.forEach((dep, k) => {
      if (dep === t.id) {
        issues.add(issueAt(src, depPath(t, k), `target "${t.id}" depends on itself; remove it from depends_on`));
      } else if (!sites.has(dep) && !incomplete) {
        const suggestion = suggestionsLeft-- > 0 ? didYouMean(dep, ids) : null;
        issues.add(
          issueAt(src, depPath(t, k), `depends_on names unknown target "${dep}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`),
        );
      }
    });
  }

  // Cycles among distinct targets: depth-first search, reporting each cycle once. The search keeps
  // its own stack: a chain of thousands of targets must not exhaust the call stack.
  const state = new Map<string, 'active' | 'done'>();
  const trail: string[] = [];
  const position = new Map<string, number>();
  const reported = new Set<string>();
  const reportCycle = (dep: string): void => {
    const cycle = trail.slice(position.get(dep));
    const key = [...cycle].sort().join('\u0000');
    if (reported.has(key)) return;
    reported.add(key);
    // Report at the depends_on entry of the cycle member written first.
    const first = [...cycle].sort((a, b) => compareSites(sites.get(a)!, sites.get(b)!))[0]!;
    const start = cycle.indexOf(first);
    const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
    const next = ordered[1] ?? first;
    const firstTarget = byId.get(first)!;
    const k = firstTarget.dependsOn.indexOf(next);
    issues.add(
      issueAt(
        sites.get(first)!.src,
        depPath(firstTarget, k),
        `dependency cycle: ${[...ordered, first].join(' -> ')}; a target cannot (indirectly) depend on itself`,
      ),
    );
  };
  for (const root of targets) {
    if (state.has(root.id)) continue;
    // Each frame: a target on the current path and the index of its next dependency to look at.
    const frames: { id: string; next: number }[] = [{ id: root.id, next: 0 }];
    state.set(root.id, 'active');
    position.set(root.id, trail.length);
    trail.push(root.id);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const deps = byId.get(frame.id)!.dependsOn;
      if (frame.next >= deps.length) {
        frames.pop();
        trail.pop();
        position.delete(frame.id);
        state.set(frame.id, 'done');
        continue;
      }
      const dep = deps[frame.next++]!;
      if (dep === frame.id || !byId.has(dep)) continue;
      const seen = state.get(dep);
      if (seen === 'active') {
        reportCycle(dep);
      } else if (seen === undefined) {
        state.set(dep, 'active');
        position.set(dep, trail.length);
        trail.push(dep);
        frames.push({ id: dep, next: 0 });
      }
    }
  }
}

function compareSites(a: TargetSite, b: TargetSite): number {
  if (a.src.file !== b.src.file) return a.src.file < b.src.file ? -1 : 1;
  return a.index - b.index;
}
