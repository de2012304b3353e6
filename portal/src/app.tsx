// The shell: a header with the language switch, and the page of the current address.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { UiContext } from './context';
import { initialLanguage, LANGUAGES, messages, saveLanguage, type Language } from './i18n';
import { HomePage } from './pages/home';
import { NotFoundPage } from './pages/not-found';
import { StatusPage } from './pages/status';
import { navigate, useRoute } from './router';

export function App() {
  const [lang, setLang] = useState<Language>(initialLanguage);
  const ui = useMemo(() => ({ lang, t: messages(lang) }), [lang]);
  const route = useRoute();
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const choose = (next: Language) => {
    saveLanguage(next);
    setLang(next);
  };

  return (
    <UiContext.Provider value={ui}>
      <a class="skip" href="#main">
        {ui.t.skipToContent}
      </a>
      <header class="top">
        <a
          class="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            navigate('/');
          }}
        >
          {ui.t.appName}
        </a>
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
        {route.page === 'not-found' && <NotFoundPage />}
      </main>
    </UiContext.Provider>
  );
}
