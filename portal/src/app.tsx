// The shell: a header with the navigation the signed-in person may use, who is signed in, the
// language switch, and the page of the current address.
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { UiContext, useText, useUi } from './context';
import { initialLanguage, LANGUAGES, messages, saveLanguage, type Language } from './i18n';
import { ChecksPage } from './pages/checks';
import { HomePage } from './pages/home';
import { MyReportsPage } from './pages/my-reports';
import { IncidentPage } from './pages/incident';
import { NotFoundPage } from './pages/not-found';
import { ReportPage } from './pages/report';
import { StatusPage } from './pages/status';
import { SignInPage } from './pages/signin';
import { IncidentsPage } from './pages/incidents';
import { Link, NAV } from './link';
import { navigate, useRoute } from './router';
import { api, fetchSession, hasRole, onSessionEnded, setCsrfToken, SessionContext, type Me, type Session } from './session';

const TEXT = {
  en: { navigation: 'Main navigation', signedInAs: 'Signed in as', signOut: 'Sign out', signIn: 'Sign in' },
  de: { navigation: 'Hauptnavigation', signedInAs: 'Angemeldet als', signOut: 'Abmelden', signIn: 'Anmelden' },
};

/**
 * The reports page with its charting library, downloaded only when it is opened: the first load
 * of the portal stays small.
 */
function LazyReports() {
  const [page, setPage] = useState<{ Page: () => preact.JSX.Element } | 'failed' | null>(null);
  const { t } = useUi();
  useEffect(() => {
    import('./pages/reports').then(
      (m) => setPage({ Page: m.ReportsPage }),
      () => setPage('failed'),
    );
  }, []);
  if (page === null) return <p aria-live="polite">{t.loading}</p>;
  if (page === 'failed') return <p role="alert">{t.loadFailed}</p>;
  return <page.Page />;
}

function useSessionState(): Session {
  const [me, setMe] = useState<Me | null>(null);
  const [known, setKnown] = useState(false);
  const refresh = useCallback(async () => {
    try {
      const answer = await fetchSession();
      setMe(answer?.principal ?? null);
    } catch {
      // The daemon is unreachable: nobody is shown as signed in; pages say what failed.
      setMe(null);
    }
    setKnown(true);
  }, []);
  const signOut = useCallback(async () => {
    try {
      await api('DELETE', '/api/v1/session');
    } finally {
      setCsrfToken(null);
      setMe(null);
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  // Any API call answered 401 (signed out elsewhere, session expired): nobody is signed in any
  // more, so the page's guard sends the person to sign in and back here.
  useEffect(() => {
    onSessionEnded(() => {
      setCsrfToken(null);
      setMe(null);
      setKnown(true);
    });
    return () => onSessionEnded(null);
  }, []);
  return useMemo(() => ({ me, known, refresh, signOut }), [me, known, refresh, signOut]);
}

function Nav({ session }: { session: Session }) {
  const text = useText(TEXT);
  const { me } = session;
  const { lang } = useUi();
  return (
    <nav aria-label={text.navigation} class="nav">
      <ul>
        {NAV.filter((n) => hasRole(me, ...n.roles)).map((n) => (
          <li key={n.href}>
            <Link href={n.href}>{n.label[lang]}</Link>
          </li>
        ))}
      </ul>
      {me === null ? (
        session.known && <Link href="/signin">{text.signIn}</Link>
      ) : (
        <span class="who">
          <span class="muted">{text.signedInAs}</span> <strong>{me.name}</strong>{' '}
          <button
            type="button"
            class="secondary"
            onClick={() => {
              void session.signOut().then(() => navigate('/'));
            }}
          >
            {text.signOut}
          </button>
        </span>
      )}
    </nav>
  );
}

export function App() {
  const [lang, setLang] = useState<Language>(initialLanguage);
  const ui = useMemo(() => ({ lang, t: messages(lang) }), [lang]);
  const route = useRoute();
  const session = useSessionState();
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const choose = (next: Language) => {
    saveLanguage(next);
    setLang(next);
  };

  return (
    <UiContext.Provider value={ui}>
      <SessionContext.Provider value={session}>
        <a class="skip" href="#main">
          {ui.t.skipToContent}
        </a>
        <header class="top">
          <Link class="brand" href="/">
            {ui.t.appName}
          </Link>
          <Nav session={session} />
          <label class="lang">
            <span>{ui.t.language}</span>
            <select value={lang} onChange={(e) => choose(e.currentTarget.value as Language)}>
              {LANGUAGES.map((l) => (
                <option key={l} value={l} lang={l}>
                  {ui.t.languageNames[l]}
                </option>
              ))}
            </select>
          </label>
        </header>
        <main id="main" tabIndex={-1}>
          {route.page === 'home' && <HomePage />}
          {route.page === 'status' && <StatusPage tenant={route.tenant} />}
          {route.page === 'report' && <ReportPage />}
          {route.page === 'my-reports' && <MyReportsPage />}
          {route.page === 'incident' && <IncidentPage number={route.number} />}
          {route.page === 'checks' && <ChecksPage />}
          {route.page === 'signin' && <SignInPage />}
          {route.page === 'incidents' && <IncidentsPage />}
          {route.page === 'reports' && <LazyReports />}
          {route.page === 'not-found' && <NotFoundPage />}
        </main>
      </SessionContext.Provider>
    </UiContext.Provider>
  );
}
