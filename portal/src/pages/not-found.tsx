import { useEffect } from 'preact/hooks';
import { useUi } from '../context';

export function NotFoundPage() {
  const { t } = useUi();
  useEffect(() => {
    document.title = `${t.notFoundTitle} · ${t.appName}`;
  }, [t]);
  return (
    <section>
      <h1>{t.notFoundTitle}</h1>
      <p>{t.notFoundText}</p>
      <p>
        <a href="/">{t.backHome}</a>
      </p>
    </section>
  );
}
