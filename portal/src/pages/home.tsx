import { useEffect, useState } from 'preact/hooks';
import { useUi } from '../context';
import { navigate } from '../router';

export function HomePage() {
  const { t } = useUi();
  const [tenant, setTenant] = useState('');
  useEffect(() => {
    document.title = `${t.homeTitle} · ${t.appName}`;
  }, [t]);
  return (
    <section>
      <h1>{t.homeTitle}</h1>
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
