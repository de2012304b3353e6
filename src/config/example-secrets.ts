// Example secrets: the `change-me…` tokens of config/incidentd.yaml and docker-compose.yml are
// known to everyone who has read those files. On a loopback listener only this machine can use
// them (a first try: warn); on any other address anyone who can reach the port could read and
// change incidents or push alerts, so the configuration is refused, at start and by `validate`.
import net from 'node:net';
import type { ConfigIssue } from '../shared/errors.js';
import type { DaemonConfig } from './types.js';
import { issueAt, type ConfigPath, type YamlSource } from '../config-core/yaml.js';

/** What marks an example secret: every one the project ships contains it. */
const EXAMPLE_MARK = /change-me/i;

export function isExampleSecret(secret: string): boolean {
  return EXAMPLE_MARK.test(secret);
}

/** True for addresses only this machine reaches: 127.0.0.0/8, ::1 (also IPv4-mapped), localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h) || /^(0{1,4}:){7}0{0,3}1$/.test(h);
  return false;
}

interface Found {
  path: ConfigPath;
  /** How the file names it, e.g. `api.tokens[0].token`. */
  key: string;
  listener: 'api' | 'snmp';
}

function keyOf(path: ConfigPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Every example secret the configuration would accept, with where the file sets it. */
function exampleSecretsOf(config: DaemonConfig, apiTokensWritten: boolean): Found[] {
  const found: Found[] = [];
  const add = (path: ConfigPath, listener: Found['listener'], keyPath: ConfigPath = path) => found.push({ path, key: keyOf(keyPath), listener });
  config.api.tokens.forEach((t, i) => {
    // Not written in the file: the built-in default (INCIDENTD_API_TOKEN, else change-me).
    if (isExampleSecret(t.token)) {
      if (apiTokensWritten) add(['api', 'tokens', i, 'token'], 'api');
      else add(['api'], 'api', ['api', 'tokens']);
    }
  });
  config.sources.forEach((s, i) => {
    s.tokens.forEach((t, j) => {
      if (isExampleSecret(t)) add(['sources', i, 'tokens', j], 'api');
    });
    s.routingKeys.forEach((k, j) => {
      if (isExampleSecret(k)) add(['sources', i, 'routing_keys', j], 'api');
    });
  });
  if (config.snmpTraps.enabled) {
    config.snmpTraps.communities.forEach((c, j) => {
      if (isExampleSecret(c)) add(['snmp_traps', 'communities', j], 'snmp');
    });
  }
  return found;
}

/**
 * Refuses example secrets on a listener other addresses can reach (errors), and warns about them
 * on loopback. `apiTokensWritten`: the file sets api.tokens (else the built-in default applies).
 */
export function exampleSecretIssues(
  src: YamlSource,
  config: DaemonConfig,
  apiTokensWritten: boolean,
): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  for (const f of exampleSecretsOf(config, apiTokensWritten)) {
    const host = f.listener === 'api' ? config.listen.host : config.snmpTraps.host;
    const hostKey = f.listener === 'api' ? 'listen.host' : 'snmp_traps.host';
    const what = f.key === 'api.tokens' ? 'api.tokens is not set, so the API token is the default "change-me"' : `${f.key} is an example secret (it contains "change-me")`;
    if (isLoopbackHost(host)) {
      warnings.push(issueAt(src, f.path, `${what}; acceptable only while ${hostKey} is ${host} (loopback): set a secret of your own (\${ENV}) before the daemon listens on another address`));
    } else {
      errors.push(
        issueAt(
          src,
          f.path,
          `${what}, and ${hostKey} is ${host}, reachable from other machines: anyone who has read the example could use it. ` +
            `Set a secret of your own (e.g. with the INCIDENTD_* variable the example reads), or listen on 127.0.0.1`,
        ),
      );
    }
  }
  return { errors, warnings };
}
