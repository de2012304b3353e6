// axios, loaded on first use. A daemon without http checks or HTTP channels never loads it, and
// none loads it while it starts: it is about 70 files and 0.3 MB of source, 70 – 180 ms of a busy
// machine's start-up (and of the probe loader's, which only reads the checks' settings).
// Its CommonJS build (dist/node/axios.cjs, one bundled file of the same code) rather than its ES
// modules: ~0.5 MB less heap once loaded, as one file keeps no module record per source file.
import { createRequire } from 'node:module';
import type { AxiosError, AxiosStatic } from 'axios';

let loading: Promise<AxiosStatic> | undefined;

export function loadAxios(): Promise<AxiosStatic> {
  return (loading ??= new Promise((resolve) => resolve(createRequire(import.meta.url)('axios') as AxiosStatic)));
}

/** axios.isAxiosError without loading axios: the errors it throws carry `isAxiosError: true`. */
export function isAxiosError(err: unknown): err is AxiosError {
  return typeof err === 'object' && err !== null && (err as { isAxiosError?: unknown }).isAxiosError === true;
}
