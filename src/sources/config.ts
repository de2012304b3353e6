// An alert source's configuration: who may push alerts, and how its alerts become signals.

export type SourceType = 'generic' | 'alertmanager' | 'pagerduty';

/** An alert source: who may push alerts, and how its alerts become signals. */
export interface SourceConfig {
  /** Unique; becomes the signal's `source`. */
  id: string;
  type: SourceType;
  /** Bearer tokens of this source (generic, alertmanager); empty for pagerduty. */
  tokens: string[];
  /** PagerDuty routing keys that name this source; empty for the other types. */
  routingKeys: string[];
  /** Its alerts may name subscribers (generic sources; the others never carry any). */
  allowSubscribers: boolean;
  /** Added to every signal of this source; the alert's own labels win. */
  labels: Record<string, string>;
  target: {
    /** Label naming the target (alertmanager; default `instance`). */
    fromLabel: string;
    /** Target kind when the alert does not say (default `server`, `service` for pagerduty). */
    kind: string;
    /** Label naming the target's site, if any. */
    siteLabel: string | null;
  };
}
