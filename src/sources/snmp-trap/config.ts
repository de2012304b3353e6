// The SNMP trap receiver's configuration (`snmp_traps:` in config/incidentd.yaml): where it
// listens, whom it believes, how traps name their target. The runtime type is the schema's output.
import { z } from 'zod';
import { labelValue } from '../../config-core/fields.js';
import { AUTH_PROTOCOLS, PRIV_PROTOCOLS } from '../../probe-kinds/snmp/session.js';

const trapUserSchema = z
  .strictObject({
    name: z.string().min(1).max(32).describe('SNMPv3 user (security) name the devices send traps as.'),
    level: z
      .enum(['noAuthNoPriv', 'authNoPriv', 'authPriv'])
      .default('authPriv')
      .describe('Security level: `authPriv` (authenticated and encrypted, default), `authNoPriv` or `noAuthNoPriv`.'),
    auth_protocol: z.enum(AUTH_PROTOCOLS).default('sha').describe('Authentication digest: md5, sha (default), sha224, sha256, sha384 or sha512.'),
    // RFC 3414 section 11.2: passphrases shorter than 8 characters are not allowed.
    auth_key: z.string().min(8).optional().describe('Authentication passphrase, at least 8 characters; use `${ENV}`.'),
    priv_protocol: z.enum(PRIV_PROTOCOLS).default('aes').describe('Privacy cipher: aes (default), aes256b, aes256r or des.'),
    priv_key: z.string().min(8).optional().describe('Privacy passphrase, at least 8 characters; use `${ENV}`.'),
  })
  .superRefine((u, ctx) => {
    if (u.level !== 'noAuthNoPriv' && u.auth_key === undefined)
      ctx.addIssue({ code: 'custom', path: ['auth_key'], message: `auth_key is required for level ${u.level}` });
    if (u.level === 'authPriv' && u.priv_key === undefined)
      ctx.addIssue({ code: 'custom', path: ['priv_key'], message: 'priv_key is required for level authPriv' });
  })
  .describe('An SNMPv3 user whose traps are accepted.');

function toTrapUser(u: z.output<typeof trapUserSchema>) {
  return {
    name: u.name,
    level: u.level,
    authProtocol: u.auth_protocol,
    authKey: u.auth_key ?? null,
    privProtocol: u.priv_protocol,
    privKey: u.priv_key ?? null,
  };
}

export const snmpTrapsSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Start the trap receiver.'),
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('Address the UDP socket binds: 127.0.0.1 (default), 0.0.0.0 to take traps from the network (containers), :: for IPv6.'),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(1162)
      .describe('UDP port. Default 1162 (needs no privilege); the standard 162 in containers or with CAP_NET_BIND_SERVICE.'),
    communities: z
      .array(z.string().min(1, { error: 'community must not be empty (an unset ${ENV} gives an empty one)' }))
      .default([])
      .describe('v1/v2c communities accepted; a trap with any other community is dropped and counted.'),
    users: z.array(trapUserSchema).default([]).describe('SNMPv3 users accepted.'),
    target: z
      .strictObject({
        kind: z.string().min(1).default('device').describe('Kind of a target known only by the sender address. Default: device.'),
        site_label: z.string().min(1).optional().describe('Label (of `labels`) naming the target\'s site, if any.'),
      })
      .prefault({})
      .describe('How traps name their target: the probe target with the sender\'s address as host, else the address itself.'),
    labels: z
      .record(z.string(), labelValue())
      .default({})
      .describe('Labels added to every trap signal.'),
  })
  .superRefine((t, ctx) => {
    if (t.enabled && t.communities.length === 0 && t.users.length === 0)
      ctx.addIssue({ code: 'custom', path: ['communities'], message: 'give at least one community or user, or every trap is dropped' });
  })
  .transform((t) => ({
    enabled: t.enabled,
    /** Address the UDP socket binds; an IPv6 address selects udp6. */
    host: t.host,
    port: t.port,
    /** v1/v2c communities accepted; a trap with any other community is dropped. */
    communities: t.communities,
    /** v3 users accepted. */
    users: t.users.map(toTrapUser),
    target: {
      /** Kind of a target named only by the sender's address (default `device`). */
      kind: t.target.kind,
      /** Label (of `labels`) naming the target's site, if any. */
      siteLabel: t.target.site_label ?? null,
    },
    /** Added to every trap signal. */
    labels: t.labels,
  }))
  .prefault({})
  .describe('SNMP trap receiver (v1, v2c, v3): traps from printers, APs and switches become signals.');

/** The SNMP trap receiver: where it listens, whom it believes, how traps name their target. */
export type SnmpTrapConfig = z.output<typeof snmpTrapsSchema>;
/** An SNMPv3 user the trap receiver accepts (authNoPriv or authPriv need the sender's keys). */
export type SnmpTrapUser = SnmpTrapConfig['users'][number];
