// "My reports": what the signed-in person has reported, newest first, each with the state of the
// incident it belongs to in plain words (received, being worked on, resolved with the note), and
// the hint of that incident when it has one. Asks again every 30 seconds.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { EVERYONE, Link } from '../link';
import { useText, useUi } from '../context';
import { formatDateTime } from '../i18n';
import type { Affected, IncidentStatus, MyReport, MyReportsPage, ReportCategory, ReportForm } from '../problem-reports';
import { api } from '../session';
import { RequireRole } from '../guard';
import { LoadFailed } from '../components/load-failed';

const REFRESH_MS = 30_000;

const en = {
  title: 'My reports',
  loading: 'Loading…',
  loadFailed: 'Your reports could not be loaded. The service may be restarting; try again in a moment.',
  retry: 'Try again',
  empty: 'You have not reported any problem yet.',
  reportOne: 'Report a problem',
  categories: { wifi: 'Wi-Fi', printer: 'Printer', email: 'E-mail', server: 'Server or application', other: 'Something else' } as Record<ReportCategory, string>,
  reported: 'Reported',
  where: 'Where',
  device: 'Device or service',
  affected: 'Affected',
  affectedChoices: { me: 'just me', several: 'several people', site: 'the whole site' } as Record<Affected, string>,
  incident: 'Incident',
  state: 'State',
  states: {
    open: 'Received, not yet picked up',
    acknowledged: 'Being worked on',
    resolved: 'Resolved',
    closed: 'Resolved and closed',
  } as Record<IncidentStatus, string>,
  waiting: 'Received; it is looked at together with similar reports',
  othersReported: (n: number) => (n === 1 ? 'one more person reported it' : `${n} more people reported it`),
  since: 'since',
  on: 'on',
  resolution: 'Resolution',
  tryFirst: 'Try first:',
  more: 'Show older reports',
  refreshed: 'Updated every 30 seconds.',
};

const de: typeof en = {
  title: 'Meine Meldungen',
  loading: 'Wird geladen …',
  loadFailed: 'Ihre Meldungen konnten nicht geladen werden. Der Dienst startet vielleicht gerade neu; bitte gleich noch einmal versuchen.',
  retry: 'Erneut versuchen',
  empty: 'Sie haben noch kein Problem gemeldet.',
  reportOne: 'Problem melden',
  categories: { wifi: 'WLAN', printer: 'Drucker', email: 'E-Mail', server: 'Server oder Anwendung', other: 'Etwas anderes' },
  reported: 'Gemeldet',
  where: 'Wo',
  device: 'Gerät oder Dienst',
  affected: 'Betroffen',
  affectedChoices: { me: 'nur ich', several: 'mehrere Personen', site: 'der ganze Standort' },
  incident: 'Störung',
  state: 'Stand',
  states: {
    open: 'Eingegangen, noch nicht übernommen',
    acknowledged: 'Wird bearbeitet',
    resolved: 'Behoben',
    closed: 'Behoben und abgeschlossen',
  },
  waiting: 'Eingegangen; wird zusammen mit ähnlichen Meldungen geprüft',
  othersReported: (n: number) => (n === 1 ? 'eine weitere Person hat es gemeldet' : `${n} weitere Personen haben es gemeldet`),
  since: 'seit',
  on: 'am',
  resolution: 'Lösung',
  tryFirst: 'Versuchen Sie zuerst:',
  more: 'Ältere Meldungen zeigen',
  refreshed: 'Wird alle 30 Sekunden aktualisiert.',
};

const TEXT = { en, de };

type Load = { kind: 'loading' } | { kind: 'failed' } | { kind: 'ok'; items: MyReport[]; next: string | null };

export function MyReportsPage() {
  return (
    <RequireRole roles={EVERYONE}>
      <MyReportsPageBody />
    </RequireRole>
  );
}

function MyReportsPageBody() {
  const text = useText(TEXT);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  // Reports name their device by id; the form's list gives the names people know.
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());

  useEffect(() => {
    const abort = new AbortController();
    api<ReportForm>('GET', '/api/v1/problem-reports/form', undefined, abort.signal).then(
      (form) => setNames(new Map(form.targets.map((t) => [`${t.tenant}\u0000${t.id}`, t.name]))),
      () => {
        // Without names the ids are shown.
      },
    );
    return () => abort.abort();
  }, []);

  useEffect(() => {
    document.title = `${text.title} · incidentd`;
  }, [text]);

  useEffect(() => {
    const abort = new AbortController();
    const get = () =>
      api<MyReportsPage>('GET', '/api/v1/problem-reports', undefined, abort.signal).then(
        (page) =>
          setLoad((prev) => {
            // A refresh renews the first page and keeps older reports already shown below it.
            if (prev.kind !== 'ok' || prev.items.length <= page.items.length) return { kind: 'ok', items: page.items, next: page.next };
            const fresh = new Set(page.items.map((i) => i.id));
            return { kind: 'ok', items: [...page.items, ...prev.items.filter((i) => !fresh.has(i.id)).slice(page.items.length)], next: prev.next };
          }),
        () => {
          if (abort.signal.aborted) return;
          // A failed refresh keeps what is shown; only a first load shows the error.
          setLoad((prev) => (prev.kind === 'ok' ? prev : { kind: 'failed' }));
        },
      );
    void get();
    const timer = setInterval(() => void get(), REFRESH_MS);
    return () => {
      abort.abort();
      clearInterval(timer);
    };
  }, [attempt]);

  const more = useCallback(async (cursor: string) => {
    try {
      const page = await api<MyReportsPage>('GET', `/api/v1/problem-reports?cursor=${encodeURIComponent(cursor)}`);
      setLoad((prev) => {
        if (prev.kind !== 'ok') return prev;
        const have = new Set(prev.items.map((i) => i.id));
        return { kind: 'ok', items: [...prev.items, ...page.items.filter((i) => !have.has(i.id))], next: page.next };
      });
    } catch {
      // The button stays; pressing it again asks again.
    }
  }, []);

  if (load.kind === 'loading') return <p aria-live="polite">{text.loading}</p>;
  if (load.kind === 'failed') {
    const retry = () => {
      setLoad({ kind: 'loading' });
      setAttempt((n) => n + 1);
    };
    return (
      <LoadFailed message={text.loadFailed} retryLabel={text.retry} onRetry={retry}>
        <h1>{text.title}</h1>
      </LoadFailed>
    );
  }
  return (
    <section class="my-reports">
      <h1>{text.title}</h1>
      <p class="muted small">{text.refreshed}</p>
      {load.items.length === 0 ? (
        <p>
          {text.empty} <Link href="/report">{text.reportOne}</Link>
        </p>
      ) : (
        <ul class="reports">
          {load.items.map((r) => (
            <ReportItem key={r.id} report={r} names={names} />
          ))}
        </ul>
      )}
      {load.next !== null && (
        <button type="button" class="secondary" onClick={() => void more(load.next!)}>
          {text.more}
        </button>
      )}
    </section>
  );
}

function ReportItem({ report, names }: { report: MyReport; names: ReadonlyMap<string, string> }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const i = report.incident;
  const done = i !== null && (i.status === 'resolved' || i.status === 'closed');
  const where = [report.site, report.room].filter((x): x is string => x !== null && x !== '').join(', ');
  const others = (i?.affected ?? 1) - 1;
  return (
    <li class={`report-item state-${i?.status ?? 'waiting'}`}>
      <article aria-labelledby={`rep-${report.id}`}>
        <h2 id={`rep-${report.id}`}>
          {text.categories[report.category]}
          {i !== null && <span class="muted"> · {i.number}</span>}
        </h2>
        <p class="report-state">
          <span class="muted">{text.state}:</span>{' '}
          <strong class={`badge status-${i?.status ?? 'open'}`}>{i === null ? text.waiting : text.states[i.status]}</strong>
          {i !== null && i.status === 'acknowledged' && i.acknowledgedAt !== null && (
            <>
              {' '}
              {text.since} <time dateTime={i.acknowledgedAt}>{formatDateTime(lang, i.acknowledgedAt)}</time>
            </>
          )}
          {i !== null && done && i.resolvedAt !== null && (
            <>
              {' '}
              {text.on} <time dateTime={i.resolvedAt}>{formatDateTime(lang, i.resolvedAt)}</time>
            </>
          )}
        </p>
        {i !== null && done && i.resolution !== undefined && i.resolution !== null && i.resolution !== '' && (
          <p class="resolution">
            <strong>{text.resolution}:</strong> {i.resolution}
          </p>
        )}
        <blockquote class="what">{report.description}</blockquote>
        <dl class="facts">
          <div>
            <dt>{text.reported}</dt>
            <dd>
              <time dateTime={report.createdAt}>{formatDateTime(lang, report.createdAt)}</time>
            </dd>
          </div>
          {where !== '' && (
            <div>
              <dt>{text.where}</dt>
              <dd>{where}</dd>
            </div>
          )}
          {report.target !== null && report.target !== '' && (
            <div>
              <dt>{text.device}</dt>
              <dd>{names.get(`${report.tenant ?? ''}\u0000${report.target}`) ?? report.target}</dd>
            </div>
          )}
          <div>
            <dt>{text.affected}</dt>
            <dd>{text.affectedChoices[report.affected]}</dd>
          </div>
          {i !== null && (
            <div>
              <dt>{text.incident}</dt>
              <dd>
                {i.title}
                {others > 0 && <> ({text.othersReported(others)})</>}
              </dd>
            </div>
          )}
        </dl>
        {i !== null && i.hint !== null && (
          <p class="hint">
            <strong>{text.tryFirst}</strong> {i.hint}
          </p>
        )}
      </article>
    </li>
  );
}
