// axios, loaded on first use. A daemon without http checks or HTTP channels never loads it, and
// none loads it while it starts: it is about 70 files and 0.3 MB of source, 70 – 180 ms of a busy
// machine's start-up (and of the probe loader's, which only reads the checks' settings).
// Its CommonJS build (dist/node/axios.cjs, one bundled file of the same code) rather than its ES
// modules: ~0.5 MB less heap once loaded, as one file keeps no module record per source file;
// and without the fetch API in sight (below).
import { createRequire } from 'node:module';
import type { AxiosError, AxiosStatic } from 'axios';

let loading: Promise<AxiosStatic> | undefined;

export function loadAxios(): Promise<AxiosStatic> {
  return (loading ??= new Promise((resolve) => resolve(requireWithoutFetchApi())));
}

// When it loads, axios probes the fetch API for its fetch adapter (it builds a Request and a
// Response) and keeps the global FormData: that makes Node load its fetch implementation (undici)
// and web streams, ~1.1 MB of heap the daemon never uses otherwise (its requests go through
// axios's http adapter, Node's default). So these globals read as undefined while axios loads
// (synchronously: nothing else runs meanwhile) and are put back as they were right after. The
// cost: axios's own fetch adapter is unavailable, and FormData instances are recognised by their
// type tag instead of instanceof (axios's fallback), neither of which the daemon uses.
const FETCH_API = ['fetch', 'Request', 'Response', 'FormData', 'ReadableStream'] as const;

function requireWithoutFetchApi(): AxiosStatic {
  const saved = FETCH_API.map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)] as const);
  for (const name of FETCH_API) Object.defineProperty(globalThis, name, { value: undefined, configurable: true, writable: true });
  try {
    return createRequire(import.meta.url)('axios') as AxiosStatic;
  } finally {
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete (globalThis as Record<string, unknown>)[name];
    }
  }
}

/** axios.isAxiosError without loading axios: the errors it throws carry `isAxiosError: true`. */
export function isAxiosError(err: unknown): err is AxiosError {
  return typeof err === 'object' && err !== null && (err as { isAxiosError?: unknown }).isAxiosError === true;
}
