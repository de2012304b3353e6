// Pages that need a signed-in person send a signed-out visitor to the sign-in page, with the
// address they wanted in `next`, and get them back there after signing in.
import { useEffect } from 'preact/hooks';
import { useSession, type Me } from './session';

/** Only a path on this site ("/incidents?x=1"), never "//host", "/\host" or another origin. */
export function safeNext(value: string | null): string | null {
  if (value === null || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return null;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  try {
    const url = new URL(value, location.origin);
    return url.origin === location.origin ? `${url.pathname}${url.search}${url.hash}` : null;
  } catch {
    return null;
  }
}

/** The sign-in page's address that comes back to the current page. */
export function signInHref(): string {
  return `/signin?next=${encodeURIComponent(`${location.pathname}${location.search}`)}`;
}

/**
 * The signed-in person; a signed-out visitor is sent to /signin?next=<this page> (replacing this
 * entry, so the back button does not bounce). Null until the session is known.
 */
export function useSignedIn(): Me | null {
  const { me, known } = useSession();
  useEffect(() => {
    if (known && me === null) {
      history.replaceState(null, '', signInHref());
      dispatchEvent(new PopStateEvent('popstate'));
    }
  }, [known, me]);
  return me;
}
