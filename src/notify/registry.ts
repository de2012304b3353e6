// Every channel kind the daemon knows. Adding a kind: write its file (schema + ChannelKind) and add
// it to KINDS; the `channels:` schema of config/incidentd.yaml and the loader take it from here.
import { z } from 'zod';
import { IncidentdError } from '../shared/errors.js';
import { emailChannel } from './email.js';
import { jiraChannel } from './jira.js';
import { servicenowChannel } from './servicenow.js';
import { slackChannel } from './slack.js';
import { teamsChannel } from './teams.js';
import type { Channel, ChannelDeps, ChannelKind } from './types.js';
import { webhookChannel } from './webhook.js';
import { zammadChannel } from './zammad.js';

const KINDS = [emailChannel, webhookChannel, servicenowChannel, zammadChannel, jiraChannel, slackChannel, teamsChannel] as const;

type KindSchema = (typeof KINDS)[number]['schema'];

/** The `channels:` entries, told apart by `type`: the union of every kind's own schema. */
export const channelConfigSchema = z.discriminatedUnion(
  'type',
  KINDS.map((k) => k.schema) as unknown as readonly [KindSchema, KindSchema, ...KindSchema[]],
);

/** One entry of the `channels:` list in config/incidentd.yaml, told apart by `type`. */
export type ChannelConfig = z.output<typeof channelConfigSchema>;

export const channelKinds: ReadonlyMap<string, ChannelKind> = new Map(KINDS.map((k): [string, ChannelKind] => [k.type, k as ChannelKind]));

/** A channel config names a `type` no channel kind implements. */
export class UnknownChannelTypeError extends IncidentdError {
  constructor(readonly type: string) {
    super(`unknown channel type "${type}"; known types: ${[...channelKinds.keys()].join(', ')}`);
  }
}

/**
 * Builds the channel a config entry describes. The entry goes through its kind's schema again, so
 * a hand-made config gets the same defaults and checks as one from the loader. Throws
 * UnknownChannelTypeError, a ZodError, or ChannelConfigError (e.g. an override template that does
 * not parse).
 */
export function createChannel(config: ChannelConfig, deps: ChannelDeps): Channel {
  const kind = channelKinds.get(config.type);
  if (!kind) throw new UnknownChannelTypeError(config.type);
  return kind.create(kind.schema.parse(config), deps);
}

/**
 * The config with the files it names resolved by `resolve` (relative to the config file), as its
 * kind says; a kind that names no files keeps it as is.
 */
export function resolveChannelFiles(config: ChannelConfig, resolve: (file: string) => string): ChannelConfig {
  const kind = channelKinds.get(config.type);
  return kind?.resolveFiles ? (kind.resolveFiles(config, resolve) as ChannelConfig) : config;
}
