// Which watched target an SNMP trap comes from. A trap names no target: only the address it was
// sent from. That address is matched against
//   1. every target's `trap_sources` (addresses or host names the admin lists: a device that
//      sends from another interface, or through a NAT), then
//   2. the `host` of every target's checks (the address the probes talk to),
// host names resolved with dns.lookup when the configuration is loaded or reloaded, never per trap.
// Within each step the first target in file order that claims an address gets it. A name that does not resolve
// keeps the addresses it last resolved to (a DNS outage during a reload loses no match), and is
// logged. Addresses are compared as the receiver reports them (IPv4-mapped IPv6 unwrapped).
import dns from 'node:dns/promises';
import net from 'node:net';
import type { TargetConfig } from '../config-core/types.js';
import type { Logger } from '../shared/logger.js';
import { plainAddress } from '../sources/snmp-trap/mapping.js';

/** Every address a host name resolves to. */
export type HostLookup = (host: string) => Promise<string[]>;

export const dnsLookup: HostLookup = async (host) => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** The hosts of a target's checks. */
function checkHosts(t: TargetConfig): string[] {
  const out: string[] = [];
  for (const c of t.checks) {
    const host = c.spec.host;
    if (typeof host === 'string' && host !== '' && !out.includes(host)) out.push(host);
  }
  return out;
}

function hostsOf(t: TargetConfig): string[] {
  return [...t.trapSources, ...checkHosts(t)];
}

export class TrapTargets {
  /** Address → target id, swapped whole when a (re)load has resolved its names. */
  private byAddress = new Map<string, string>();
  /** Host name → the addresses it resolved to last; kept across reloads. */
  private readonly resolved = new Map<string, string[]>();
  /** Bumped per update, so a slow earlier update cannot overwrite a later one. */
  private generation = 0;

  constructor(
    private readonly logger: Logger,
    private readonly lookup: HostLookup = dnsLookup,
  ) {}

  /** The id of the target that sends from `address`, if any. */
  targetFor(address: string): string | undefined {
    return this.byAddress.get(plainAddress(address));
  }

  /**
   * Rebuilds the index for a (re)loaded configuration. IP literals match at once; names match once
   * resolved (the returned promise). Never rejects.
   */
  async update(targets: readonly TargetConfig[]): Promise<void> {
    const generation = ++this.generation;
    const names = [...new Set(targets.flatMap(hostsOf).filter((h) => net.isIP(plainAddress(h)) === 0))];
    this.byAddress = this.build(targets);
    await Promise.all(
      names.map(async (name) => {
        try {
          const addresses = (await this.lookup(name)).map(plainAddress);
          this.resolved.set(name, addresses);
        } catch (err) {
          const kept = this.resolved.get(name);
          this.logger.warn(
            { host: name, err: err instanceof Error ? err.message : String(err), kept: kept ?? [] },
            kept
              ? 'cannot resolve a probe host for SNMP trap matching; keeping the addresses it had'
              : 'cannot resolve a probe host for SNMP trap matching; traps from it land on a target named after their address',
          );
        }
      }),
    );
    if (generation === this.generation) this.byAddress = this.build(targets);
  }

  private build(targets: readonly TargetConfig[]): Map<string, string> {
    const index = new Map<string, string>();
    const claim = (t: TargetConfig, hosts: string[]) => {
      for (const host of hosts) {
        const literal = plainAddress(host);
        const addresses = net.isIP(literal) !== 0 ? [literal] : (this.resolved.get(host) ?? []);
        for (const a of addresses) if (!index.has(a)) index.set(a, t.id);
      }
    };
    // Explicit trap_sources of every target first: they win over an address a check merely uses.
    for (const t of targets) claim(t, t.trapSources);
    for (const t of targets) claim(t, checkHosts(t));
    return index;
  }
}
