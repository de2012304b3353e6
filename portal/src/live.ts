// Live incident changes from the daemon (GET /api/v1/events, server-sent events), for any page that
// shows incidents: the list, the detail page. An event only says which incident changed; the page
// fetches again what it shows. The browser's EventSource reconnects by itself after a network
// error or when the daemon ends a stream; when it gives up (the daemon answered an error, e.g. the
// session ended), this hook opens a new one after a pause.
import { useEffect, useRef, useState } from 'preact/hooks';

export type IncidentChangeKind =
  | 'opened'
  | 'reopened'
  | 'acknowledged'
  | 'commented'
  | 'subscribed'
  | 'escalated'
  | 'sla'
  | 'silenced'
  | 'reclassified'
  | 'flapping'
  | 'related'
  | 'resolved'
  | 'closed';

/** The data of one `incident` event, as src/api/events.ts sends it. */
export interface IncidentEvent {
  number: string;
  tenant: string;
  status: 'open' | 'acknowledged' | 'resolved' | 'closed';
  change: IncidentChangeKind;
  /** ISO time of the change. */
  at: string;
}

export type LiveState = 'connecting' | 'live' | 'offline';

const EVENTS_PATH = '/api/v1/events';
const REOPEN_MS = 10_000;

/**
 * Calls `onEvent` for every incident change the signed-in person may see, while the component is
 * mounted and `enabled` (default true). Answers the connection's state, to show "live" or not.
 */
export function useIncidentEvents(onEvent: (event: IncidentEvent) => void, enabled = true): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  // The latest callback, without reconnecting when it changes.
  const handler = useRef(onEvent);
  handler.current = onEvent;

  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;

    const open = () => {
      if (stopped) return;
      setState('connecting');
      const es = new EventSource(EVENTS_PATH, { withCredentials: true });
      source = es;
      es.onopen = () => setState('live');
      es.addEventListener('incident', (e) => {
        try {
          handler.current(JSON.parse((e as MessageEvent<string>).data) as IncidentEvent);
        } catch {
          // A frame that is not the expected JSON is skipped; the next change refetches anyway.
        }
      });
      es.onerror = () => {
        if (es.readyState === EventSource.CLOSED) {
          // The browser gave up (an error answer): try again later with a new stream.
          setState('offline');
          es.close();
          timer = setTimeout(open, REOPEN_MS);
        } else {
          setState('connecting');
        }
      };
    };
    open();
    return () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      source?.close();
    };
  }, [enabled]);

  return state;
}
