// Sign-in: a local account (name and password) through POST /api/v1/session, and single sign-on
// when the daemon has it configured (GET /api/v1/session/methods says so). A refusal shows the
// daemon's own words (a wrong name or password, a locked account, too many attempts). After
// signing in the person goes back to the page they came from (`?next=`, a path on this site only),
// else to the first page their role has.
import { useEffect, useState } from 'preact/hooks';
import { useText, useUi } from '../context';
import { safeNext } from '../guard';
import { api, ApiError, hasRole, useSession, type Me } from '../session';

const TEXT = {
  en: {
    title: 'Sign in',
    intro: 'Sign in with your incidentd account.',
    name: 'User name',
    password: 'Password',
    submit: 'Sign in',
    working: 'Signing in…',
    or: 'or',
    sso: (provider: string) => `Sign in with ${provider}`,
    wrong: 'The sign-in was refused',
    locked: 'Sign-in is blocked for now',
    unreachable: 'The daemon could not be reached. It may be restarting; try again in a moment.',
  },
  de: {
    title: 'Anmelden',
    intro: 'Mit dem incidentd-Konto anmelden.',
    name: 'Benutzername',
    password: 'Passwort',
    submit: 'Anmelden',
    working: 'Anmeldung läuft …',
    or: 'oder',
    sso: (provider: string) => `Anmelden mit ${provider}`,
    wrong: 'Die Anmeldung wurde abgelehnt',
    locked: 'Die Anmeldung ist vorübergehend gesperrt',
    unreachable: 'Der Dienst ist nicht erreichbar. Er startet vielleicht gerade neu; bitte gleich noch einmal versuchen.',
  },
};

interface Methods {
  password: boolean;
  sso: { provider: string; loginPath: string } | null;
}

/** Where a person goes after signing in when no page asked: the first page their role has. */
export function homeOf(me: Me): string {
  if (hasRole(me, 'agent', 'engineer', 'manager', 'admin')) return '/incidents';
  return '/';
}

function nextParam(): string | null {
  return safeNext(new URLSearchParams(location.search).get('next'));
}

export function SignInPage() {
  const text = useText(TEXT);
  const { t } = useUi();
  const session = useSession();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ heading: string; message: string } | null>(null);
  const [methods, setMethods] = useState<Methods | null>(null);

  useEffect(() => {
    document.title = `${text.title} · ${t.appName}`;
  }, [text, t]);

  // Signed in (just now, back from single sign-on, or before): on to the page asked for, else the
  // person's first page. Replacing this entry: the back button does not come back to the form.
  useEffect(() => {
    if (session.me === null) return;
    history.replaceState(null, '', nextParam() ?? homeOf(session.me));
    dispatchEvent(new PopStateEvent('popstate'));
  }, [session.me]);

  useEffect(() => {
    const abort = new AbortController();
    api<Methods>('GET', '/api/v1/session/methods', undefined, abort.signal).then(setMethods, () => {
      // Without the answer the password form still works; single sign-on is just not offered.
    });
    return () => abort.abort();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/session', { name: name.trim(), password });
      // Signed in: the effect below leaves for the next page once the session says who it is.
      await session.refresh();
    } catch (err) {
      if (err instanceof ApiError) {
        setError({ heading: err.status === 429 ? text.locked : text.wrong, message: err.message });
      } else {
        setError({ heading: text.wrong, message: text.unreachable });
      }
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  const sso = methods?.sso ?? null;
  const next = nextParam();
  return (
    <section class="signin">
      <h1>{text.title}</h1>
      <p>{text.intro}</p>
      {error !== null && (
        <div class="error" role="alert">
          <strong>{error.heading}:</strong> {error.message}
        </div>
      )}
      <form class="stack" onSubmit={(e) => void submit(e)}>
        <label for="signin-name">{text.name}</label>
        <input id="signin-name" name="username" autocomplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="signin-password">{text.password}</label>
        <input
          id="signin-password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? text.working : text.submit}
        </button>
      </form>
      {sso !== null && (
        <p>
          <span class="muted">{text.or}</span>{' '}
          {/* Back to this page, which then goes on to `next` or the person's first page. */}
          <a class="button-link" href={`${sso.loginPath}?return_to=${encodeURIComponent(next === null ? '/signin' : `/signin?next=${encodeURIComponent(next)}`)}`}>
            {text.sso(sso.provider)}
          </a>
        </p>
      )}
    </section>
  );
}
