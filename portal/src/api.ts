// The portal is a client of the daemon's HTTP API, with the same permissions as any other.
// Types mirror the answers of src/api/status.ts.

export type Severity = 'minor' | 'medium' | 'severe' | 'major';
export type ServiceState = 'up' | 'disrupted' | 'down' | 'unknown';
export type OverallState = 'operational' | 'degraded' | 'outage';

export interface StatusAnswer {
  tenant: { id: string; name: string };
  state: OverallState;
  at: string;
  sites: { name: string; state: ServiceState; services: { id: string; name: string; state: ServiceState }[] }[];
  incidents: { title: string; severity: Severity; stage: 'investigating' | 'identified'; since: string; service: string; site: string }[];
  history: { timeZone: string; days: { date: string; worst: Severity | null }[]; truncated: boolean };
}

/** The request failed in a way a retry may fix (network, 5xx). */
export class ApiUnavailableError extends Error {
  constructor(readonly status: number | null) {
    super(status === null ? 'the daemon did not answer' : `the daemon answered ${status}`);
  }
}

/** null: no such page for this viewer (404). */
export async function fetchStatus(tenant: string, signal?: AbortSignal): Promise<StatusAnswer | null> {
  let res: Response;
  try {
    res = await fetch(`/api/v1/status/${encodeURIComponent(tenant)}`, { headers: { accept: 'application/json' }, credentials: 'same-origin', ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiUnavailableError(null);
  }
  if (res.status === 404) return null;
  if (!res.ok) throw new ApiUnavailableError(res.status);
  return (await res.json()) as StatusAnswer;
}
