// The one sign-in guard of the portal's pages for signed-in people (staff and reporter pages):
// a signed-out visitor is sent to the sign-in page with the address they wanted in `next` (and
// comes back there after signing in); a signed-in person whose role may not use the page is told
// so; and a session that ends mid-use (any API call answered 401, see session.ts) counts as signed
// out, so the same redirect takes the person to sign in and back.
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { useText, useUi } from './context';
import { hasRole, useSession, type Me, type UserRole } from './session';

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

const TEXT = {
  en: { title: 'Not allowed', text: 'You are signed in, but your role may not use this page. Ask an administrator if you need it.' },
  de: {
    title: 'Nicht erlaubt',
    text: 'Sie sind angemeldet, aber Ihre Rolle darf diese Seite nicht nutzen. Wenden Sie sich an eine Administratorin oder einen Administrator, wenn Sie sie brauchen.',
  },
};

/** What a signed-in person whose role may not use the page sees. */
export function NotAllowed() {
  const text = useText(TEXT);
  return (
    <section class="no-access">
      <h1>{text.title}</h1>
      <p role="alert">{text.text}</p>
    </section>
  );
}

/**
 * Shows `children` to a signed-in person with one of `roles`; `denied` (default NotAllowed) to one
 * without; sends anyone else to sign in. Wrap every page for signed-in people in it.
 */
export function RequireRole({ roles, denied, children }: { roles: readonly UserRole[]; denied?: ComponentChildren; children: ComponentChildren }) {
  const me = useSignedIn();
  const { t } = useUi();
  // Not known yet, or signed out and on the way to the sign-in page.
  if (me === null) return <p aria-live="polite">{t.loading}</p>;
  if (!hasRole(me, ...roles)) return <>{denied ?? <NotAllowed />}</>;
  return <>{children}</>;
}
