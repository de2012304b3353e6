// A client of GET /api/v1/events for tests: opens the stream, answers its status and headers at
// once (the body never ends by itself), collects the events as they come, and aborts it.
export interface EventStream {
  status: number;
  headers: Headers;
  /** The body of an answer that is not a stream (an error), else ''. */
  errorBody: string;
  /** Every `incident` event's data so far. */
  events: Record<string, unknown>[];
  /** Everything received so far, as text. */
  raw(): string;
  /** Waits until an event matches, or fails after `timeoutMs`. */
  waitFor(match: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

export async function openEvents(url: string, headers: Record<string, string>): Promise<EventStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  let text = '';
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const isStream = res.ok && (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const errorBody = isStream ? '' : await res.text();
  if (isStream && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += value;
          // Complete frames end with a blank line; `event: incident` frames carry one data line.
          const frames = text.split('\n\n');
          events.length = 0;
          for (const f of frames.slice(0, -1)) {
            const lines = f.split('\n');
            if (!lines.includes('event: incident')) continue;
            const data = lines.find((l) => l.startsWith('data: '));
            if (data) events.push(JSON.parse(data.slice(6)) as Record<string, unknown>);
          }
          for (const w of waiters) w();
        }
      } catch {
        // Aborted by close(), or the daemon went away.
      }
    })();
  }
  return {
    status: res.status,
    headers: res.headers,
    errorBody,
    events,
    raw: () => text,
    waitFor(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event within ${timeoutMs} ms; received: ${text}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => abort.abort(),
  };
}
