// Who is signed in, and the one way the portal talks to the daemon's API with a browser session:
// same-origin cookie, and on every write the session's CSRF token in `x-csrf-token` (the daemon
// refuses a cookie-authenticated write without it). Types mirror src/api/session.ts.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export type UserRole = 'reporter' | 'agent' | 'engineer' | 'manager' | 'admin';

export interface Me {
  kind: 'user' | 'token';
  id: string;
  name: string;
  roles: readonly UserRole[];
  tenants: '*' | readonly string[];
}

export interface SessionAnswer {
  principal: Me;
  csrfToken: string | null;
}

/** The daemon answered with an error; `message` is its own words (made for people). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: readonly { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** The daemon could not be reached, or failed (5xx): a retry may help. */
export class ApiUnreachableError extends Error {
  constructor(readonly status: number | null) {
    super(status === null ? 'the daemon did not answer' : `the daemon answered ${status}`);
  }
}

let csrfToken: string | null = null;

/** Kept from the last session answer; sent with every write. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

let sessionEnded: (() => void) | null = null;

/** Told when any API call is answered 401 (the session ended mid-use); the shell sets it. */
export function onSessionEnded(handler: (() => void) | null): void {
  sessionEnded = handler;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Calls the API. Answers the parsed JSON (undefined for 204). Throws ApiError for 4xx (401 means
 * the session ended: sign in again) and ApiUnreachableError for network errors and 5xx.
 */
export async function api<T>(method: Method, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiUnreachableError(null);
  }
  if (res.status >= 500) throw new ApiUnreachableError(res.status);
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  // The session's own address answers 401 to a wrong password or nobody signed in: not an ending.
  if (res.status === 401 && !path.startsWith('/api/v1/session')) sessionEnded?.();
  if (!res.ok) {
    const e = (parsed ?? {}) as { message?: unknown; error?: unknown; issues?: unknown };
    const message = typeof e.message === 'string' ? e.message : typeof e.error === 'string' ? e.error : `HTTP ${res.status}`;
    const details = Array.isArray(e.issues) ? (e.issues as { field: string; message: string }[]) : [];
    throw new ApiError(res.status, message, details);
  }
  return parsed as T;
}

/** The signed-in person, or null; `refresh` asks the daemon again (after sign-in or sign-out). */
export interface Session {
  me: Me | null;
  /** False until the first answer about the session has come. */
  known: boolean;
  refresh(): Promise<void>;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<Session>({
  me: null,
  known: false,
  refresh: async () => {},
  signOut: async () => {},
});

export function useSession(): Session {
  return useContext(SessionContext);
}

/** Asks who is signed in; null when nobody (401). */
export async function fetchSession(): Promise<SessionAnswer | null> {
  try {
    const answer = await api<SessionAnswer>('GET', '/api/v1/session');
    setCsrfToken(answer.csrfToken);
    return answer;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      setCsrfToken(null);
      return null;
    }
    throw err;
  }
}

/** Whether the person has one of the roles (the daemon checks again on every request). */
export function hasRole(me: Me | null, ...roles: UserRole[]): boolean {
  return me !== null && me.roles.some((r) => roles.includes(r));
}
