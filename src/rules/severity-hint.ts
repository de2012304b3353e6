// The severity words alert senders use, mapped onto incidentd's four severity classes. A failing
// alert that no rule matches is classified with the class its sender's word names (the
// uncategorized default's severity otherwise), so `"severity": "critical"` is never a medium
// incident just because no rule mentions it. Rules still see the word itself as labels.severity.
import type { Severity } from '../domain/classification.js';

/**
 * Words by class, lower case. PagerDuty Events v2 (critical, error, warning, info), Alertmanager's
 * conventional `severity` label (critical, warning, info; `page` in older setups), syslog levels,
 * Zabbix (disaster, high, average, warning, information, not classified), Opsgenie priorities
 * P1–P5, and incidentd's own class names.
 */
const WORDS: Record<Severity, readonly string[]> = {
  major: ['major', 'critical', 'crit', 'fatal', 'emergency', 'emerg', 'alert', 'disaster', 'page', 'p1'],
  severe: ['severe', 'error', 'err', 'high', 'p2'],
  medium: ['medium', 'warning', 'warn', 'average', 'moderate', 'p3'],
  minor: ['minor', 'info', 'information', 'informational', 'notice', 'low', 'debug', 'not classified', 'none', 'p4', 'p5'],
};

const CLASS_OF = new Map<string, Severity>();
for (const [severity, words] of Object.entries(WORDS) as [Severity, readonly string[]][]) {
  for (const w of words) CLASS_OF.set(w, severity);
}

/** The severity class a sender's word names (any case, surrounding blanks ignored); null if none. */
export function severityOfHint(word: string | undefined): Severity | null {
  if (word === undefined) return null;
  // Most senders write the word as listed: one lookup, no new string.
  return CLASS_OF.get(word) ?? CLASS_OF.get(word.trim().toLowerCase()) ?? null;
}

