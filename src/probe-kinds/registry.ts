// Every probe kind the daemon knows. Adding a kind: import it and add it to KINDS.
import { IncidentdError } from '../shared/errors.js';
import { hostKind } from './host.js';
import { httpKind } from './http.js';
import { icmpKind } from './icmp.js';
import { imapKind } from './imap.js';
import { pop3Kind } from './pop3.js';
import { printerKind } from './printer.js';
import { smtpKind } from './smtp.js';
import { snmpKind } from './snmp.js';
import { tcpKind } from './tcp.js';
import type { ProbeKind } from './types.js';
import { wifiApKind } from './wifi-ap.js';

const KINDS: readonly ProbeKind[] = [
  icmpKind,
  tcpKind,
  httpKind,
  snmpKind,
  printerKind,
  wifiApKind,
  hostKind,
  smtpKind,
  imapKind,
  pop3Kind,
];

export const probeKinds: ReadonlyMap<string, ProbeKind> = new Map(KINDS.map((k) => [k.type, k]));

/** A check names a `type` no probe kind implements. */
export class UnknownProbeKindError extends IncidentdError {
  constructor(readonly type: string) {
    super(`unknown probe type "${type}"; known types: ${[...probeKinds.keys()].join(', ')}`);
  }
}

/** The kind for `type`; throws UnknownProbeKindError naming the known types. */
export function getProbeKind(type: string): ProbeKind {
  const kind = probeKinds.get(type);
  if (!kind) throw new UnknownProbeKindError(type);
  return kind;
}
