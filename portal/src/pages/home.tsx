import { useEffect, useState } from 'preact/hooks';
import { Link } from '../link';
import { useText, useUi } from '../context';
import { navigate } from '../router';
import { hasRole, useSession } from '../session';

// What a signed-in reporter comes here for: reporting a problem and following his reports.
const TEXT = {
  en: { yourReports: 'Your problem reports', report: 'Report a problem', mine: 'My reports' },
  de: { yourReports: 'Ihre Problemmeldungen', report: 'Problem melden', mine: 'Meine Meldungen' },
};

export function HomePage() {
  const { t } = useUi();
  const text = useText(TEXT);
  const { me } = useSession();
  const [tenant, setTenant] = useState('');
  useEffect(() => {
    document.title = `${t.homeTitle} · ${t.appName}`;
  }, [t]);
  return (
    <section>
      <h1>{t.homeTitle}</h1>
      {hasRole(me, 'reporter') && (
        <nav aria-label={text.yourReports} class="home-reports">
          <Link class="button" href="/report">
            {text.report}
          </Link>
          <Link class="button secondary" href="/my-reports">
            {text.mine}
          </Link>
        </nav>
      )}
      <p>{t.homeIntro}</p>
      <form
        class="open-status"
        onSubmit={(e) => {
          e.preventDefault();
          const id = tenant.trim();
          if (id !== '') navigate(`/status/${encodeURIComponent(id)}`);
        }}
      >
        <label for="tenant">{t.tenantId}</label>
        <input id="tenant" name="tenant" autocomplete="off" value={tenant} onInput={(e) => setTenant(e.currentTarget.value)} />
        <button type="submit">{t.open}</button>
      </form>
    </section>
  );
}
