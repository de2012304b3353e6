// An alert request as the intake journal keeps it: the body as received, and what turning it into
// signals needs (the source's settings without its credentials, the time of receipt). Replaying it
// runs the same normaliser over the same inputs, so the journal holds a request's inputs rather
// than its signals: the JSON of a batch's signals is ~2.6× the body, and writing it cost more CPU
// than parsing the body did.
import type { Signal } from '../domain/signal.js';
import { alertmanagerSignals } from './alertmanager.js';
import type { SourceConfig } from './config.js';
import { genericSignals } from './generic.js';

/** The alert endpoints whose requests are journaled as received. */
export type RequestType = 'generic' | 'alertmanager';

/** A request the daemon took in: its parsed body's text, its source, when it came. */
export interface ReceivedRequest {
  type: RequestType;
  source: SourceConfig;
  /** Epoch milliseconds; the signals' `at`. */
  at: number;
  /** The body as received (valid JSON: it was parsed and validated). */
  body: string;
}

/** What a journal record says about its request, besides the body. */
export interface RequestHeader {
  type: RequestType;
  at: number;
  source: SourceSettings;
}

/** A source as a journal record keeps it: everything but its tokens and routing keys. */
export type SourceSettings = Omit<SourceConfig, 'tokens' | 'routingKeys'>;

// Per source object (a config reload makes new ones): the settings' JSON is the same for every request.
const settingsJson = new WeakMap<SourceConfig, string>();

/** The JSON of the request's header (RequestHeader). Credentials are left out: they never reach the disk. */
export function requestHeaderJson(request: ReceivedRequest): string {
  let source = settingsJson.get(request.source);
  if (source === undefined) {
    const { id, type, allowSubscribers, labels, tenant, target } = request.source;
    source = JSON.stringify({ id, type, allowSubscribers, labels, tenant, target } satisfies SourceSettings);
    settingsJson.set(request.source, source);
  }
  return `{"type":${JSON.stringify(request.type)},"at":${request.at},"source":${source}}`;
}

const NORMALISERS: Record<RequestType, (body: unknown, source: SourceConfig, now: number) => Signal[]> = {
  generic: genericSignals,
  alertmanager: alertmanagerSignals,
};

/**
 * The signals of a journaled request: what its endpoint made of it when it came. Throws the
 * normaliser's InvalidAlertsError if the body no longer passes (a newer version that reads the
 * endpoint's schema more strictly), and a TypeError for a header this version does not know.
 */
export function signalsOfRequest(header: RequestHeader, body: unknown): Signal[] {
  // Own keys only: a type such as "constructor" must not find Object's.
  const normalise = Object.hasOwn(NORMALISERS, header.type) ? NORMALISERS[header.type] : undefined;
  if (normalise === undefined) throw new TypeError(`unknown alert request type ${JSON.stringify(header.type)}`);
  return normalise(body, { ...header.source, tokens: [], routingKeys: [] }, header.at);
}
