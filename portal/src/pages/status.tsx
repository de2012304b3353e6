// A tenant's status page: the overall state, ongoing incidents in plain words, the services by
// site, and the last 90 days. Reloads itself every minute; states are said in words as well as
// colours, and the 90-day bar has a table behind it for screen readers and keyboards.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { fetchStatus, type Severity, type StatusAnswer } from '../api';
import { useUi } from '../context';
import { formatDateTime, formatDay, formatRelative } from '../i18n';

const REFRESH_MS = 60_000;

type Load = { kind: 'loading' } | { kind: 'missing' } | { kind: 'failed' } | { kind: 'ok'; status: StatusAnswer };

export function StatusPage({ tenant }: { tenant: string }) {
  const { t } = useUi();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);

  const retry = useCallback(() => {
    setLoad({ kind: 'loading' });
    setAttempt((n) => n + 1);
  }, []);

  useEffect(() => {
    const abort = new AbortController();
    const get = () =>
      fetchStatus(tenant, abort.signal).then(
        (status) => setLoad(status === null ? { kind: 'missing' } : { kind: 'ok', status }),
        () => {
          // A failed refresh keeps what is shown; only a first load shows the error.
          if (!abort.signal.aborted) setLoad((prev) => (prev.kind === 'ok' ? prev : { kind: 'failed' }));
        },
      );
    void get();
    const timer = setInterval(() => void get(), REFRESH_MS);
    return () => {
      abort.abort();
      clearInterval(timer);
    };
  }, [tenant, attempt]);

  const name = load.kind === 'ok' ? load.status.tenant.name : tenant;
  useEffect(() => {
    document.title = `${t.statusPageOf} ${name} · ${t.appName}`;
  }, [t, name]);

  if (load.kind === 'loading') return <p aria-live="polite">{t.loading}</p>;
  if (load.kind === 'missing') {
    return (
      <section>
        <h1>{t.notFoundTitle}</h1>
        <p>{t.statusNotFound}</p>
        <p>
          <a href="/">{t.backHome}</a>
        </p>
      </section>
    );
  }
  if (load.kind === 'failed') {
    return (
      <section>
        <p role="alert">{t.loadFailed}</p>
        <button type="button" onClick={retry}>
          {t.retry}
        </button>
      </section>
    );
  }
  return <StatusView status={load.status} />;
}

function StatusView({ status }: { status: StatusAnswer }) {
  const { t, lang } = useUi();
  const now = Date.now();
  return (
    <article class="status">
      <h1>
        <span class="muted">{t.statusPageOf}</span> {status.tenant.name}
      </h1>
      <p class={`banner banner-${status.state}`} role="status">
        <span class="dot" aria-hidden="true" />
        {t.overall[status.state]}
      </p>
      <p class="muted small">
        {t.updated}: <time dateTime={status.at}>{formatDateTime(lang, status.at)}</time>
      </p>

      <section aria-labelledby="incidents-h">
        <h2 id="incidents-h">{t.ongoingIncidents}</h2>
        {status.incidents.length === 0 ? (
          <p>{t.noIncidents}</p>
        ) : (
          <ul class="incidents">
            {status.incidents.map((i, n) => (
              <li key={n} class={`incident sev-${i.severity}`}>
                <h3>{i.title}</h3>
                <p class="meta">
                  <span class={`badge sev-${i.severity}`}>{t.severity[i.severity]}</span> <span>{t.stage[i.stage]}</span>
                </p>
                <p class="meta">
                  {t.since} <time dateTime={i.since} title={formatDateTime(lang, i.since)}>{formatDateTime(lang, i.since)}</time> (
                  {formatRelative(lang, i.since, now)})
                </p>
                <p class="meta">
                  {t.affects}: {i.site === '' ? i.service : `${i.service} ${t.at} ${i.site}`}
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="services-h">
        <h2 id="services-h">{t.services}</h2>
        {status.sites.length === 0 && <p>{t.noServices}</p>}
        {status.sites.map((site) => (
          <section key={site.name} class="site" aria-label={`${t.site} ${site.name}`}>
            <h3>
              {t.site} {site.name}
            </h3>
            <ul class="services">
              {site.services.map((s) => (
                <li key={s.id} class="service">
                  <span>{s.name}</span>
                  <span class={`state state-${s.state}`}>
                    <span class="dot" aria-hidden="true" />
                    {t.service[s.state]}
                  </span>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </section>

      <History history={status.history} />
    </article>
  );
}

function History({ history }: { history: StatusAnswer['history'] }) {
  const { t, lang } = useUi();
  const bad = history.days.filter((d) => d.worst !== null);
  const word = (s: Severity | null) => (s === null ? null : t.severity[s]);
  return (
    <section aria-labelledby="history-h">
      <h2 id="history-h">{t.history}</h2>
      <p>{t.historySummary(bad.length)}</p>
      {/* The bars are a picture of the table below, which says the same in words. */}
      <div class="bars" aria-hidden="true">
        {history.days.map((d) => (
          <span key={d.date} class={`bar ${d.worst === null ? 'ok' : `sev-${d.worst}`}`} title={t.historyDay(formatDay(lang, d.date), word(d.worst))} />
        ))}
      </div>
      {history.truncated && <p class="small">{t.historyTruncated}</p>}
      {bad.length > 0 && (
        <details>
          <summary>{t.historyDetails}</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">{t.day}</th>
                <th scope="col">{t.worstIncident}</th>
              </tr>
            </thead>
            <tbody>
              {[...bad].reverse().map((d) => (
                <tr key={d.date}>
                  <td>{formatDay(lang, d.date)}</td>
                  <td>{word(d.worst)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </section>
  );
}
