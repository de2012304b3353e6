// Human text for `incidentd rules explain`: which rules were looked at and why each did or did not
// match, then what the signal became.
import type { Signal } from '../domain/signal.js';
import type { Explanation, RuleMatch } from './types.js';

export function formatExplanation(signal: Signal, ex: Explanation): string {
  const lines: string[] = [];
  const t = signal.target;
  lines.push(`signal: ${signal.status} from ${signal.source}`);
  lines.push(`  target: ${t.id} (kind ${t.kind}, name ${JSON.stringify(t.name)}${t.site ? `, site ${t.site}` : ''})`);
  lines.push(`  check: ${signal.check.name} (type ${signal.check.type})`);
  if (signal.message) lines.push(`  message: ${signal.message}`);

  if (signal.status !== 'fail') {
    lines.push('');
    lines.push('status is ok: rules are evaluated only for failing signals, so nothing is classified.');
    lines.push('(the incident manager uses ok signals to resolve incidents)');
    return lines.join('\n') + '\n';
  }

  lines.push('');
  if (ex.trace.length === 0) {
    lines.push('rules: none loaded');
  } else {
    lines.push('rules, in order:');
    const width = Math.max(...ex.trace.map((r) => r.ruleId.length), ...ex.shadowed.map((r) => r.ruleId.length));
    ex.trace.forEach((r, i) => {
      const verdict = r.matched ? 'MATCH   ' : 'no match';
      lines.push(`  ${String(i + 1).padStart(2)}. ${r.ruleId.padEnd(width)}  ${verdict}  ${r.reason}`);
    });
    if (ex.shadowed.length > 0) {
      lines.push('');
      lines.push(`shadowed: ${ex.shadowed.length === 1 ? 'this later rule matches' : 'these later rules match'} too, but never classifies such a signal:`);
      for (const r of ex.shadowed) {
        lines.push(`      ${r.ruleId.padEnd(width)}  SHADOWED  ${r.by} matches first and wins (move this rule above it, or set continue: true on ${r.by})`);
      }
    }
  }

  lines.push('');
  if (ex.usedDefault) {
    lines.push('no rule matched: the uncategorized default applies');
  } else {
    lines.push(`result: ${ex.matches.length} match${ex.matches.length === 1 ? '' : 'es'}`);
  }
  for (const m of ex.matches) lines.push(...formatMatch(m, ex.usedDefault));
  return lines.join('\n') + '\n';
}

function formatMatch(m: RuleMatch, isDefault: boolean): string[] {
  const c = m.classification;
  const out = [
    `  rule ${m.ruleId}${isDefault ? ' (uncategorized default)' : ''}`,
    `    classification: category ${c.category}, severity ${c.severity}, impact ${c.impact}, tier ${c.tier}, priority ${c.priority}`,
    `    title: ${m.title}`,
  ];
  if (m.description) out.push(`    description: ${indentRest(m.description, '      ')}`);
  if (m.runbook) out.push(`    runbook: ${indentRest(m.runbook, '      ')}`);
  out.push(`    fingerprint: ${m.fingerprint}`);
  out.push(`    open after ${m.openAfter} failing signal(s), resolve after ${m.resolveAfter} ok signal(s)`);
  return out;
}

/** Keeps multi-line text (runbooks often are) readable under its label. */
function indentRest(text: string, indent: string): string {
  return text.trimEnd().split('\n').join(`\n${indent}`);
}
