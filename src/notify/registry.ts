// Every channel kind the daemon knows. Adding a kind: write its file (schema + ChannelKind) and add
// it to the two lists below.
import { z } from 'zod';
import { IncidentdError } from '../shared/errors.js';
import { emailChannel, emailChannelSchema } from './email.js';
import { jiraChannel, jiraChannelSchema } from './jira.js';
import { servicenowChannel, servicenowChannelSchema } from './servicenow.js';
import type { Channel, ChannelDeps, ChannelKind } from './types.js';
import { webhookChannel, webhookChannelSchema } from './webhook.js';
import { zammadChannel, zammadChannelSchema } from './zammad.js';

// The two lists name the same kinds: the union types the config, the kinds build channels.
export const channelConfigSchema = z.discriminatedUnion('type', [
  emailChannelSchema,
  webhookChannelSchema,
  servicenowChannelSchema,
  zammadChannelSchema,
  jiraChannelSchema,
]);
const KINDS: readonly ChannelKind[] = [emailChannel, webhookChannel, servicenowChannel, zammadChannel, jiraChannel];

/** One entry of the `channels:` list in config/incidentd.yaml, told apart by `type`. */
export type ChannelConfig = z.output<typeof channelConfigSchema>;

export const channelKinds: ReadonlyMap<string, ChannelKind> = new Map(KINDS.map((k) => [k.type, k]));

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
