// The checks board: every check the person may see, grouped by tenant (when there are several),
// site and target, with its state in words and colour, the last result and error, a sparkline of
// its recent latencies (with min/avg/max in words) and whether it is in maintenance or silenced.
// Reads GET /api/v1/checks?include=history every 15 seconds; filters by state and by text.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useText, useUi } from '../context';
import type { Language } from '../i18n';
import { RequireRole } from '../guard';
import { STAFF } from '../link';
import { api, ApiError } from '../session';

const REFRESH_MS = 15_000;

const STATES = ['down', 'cannot-run', 'unknown', 'up'] as const;
type CheckState = (typeof STATES)[number];

interface ApiCheck {
  id: string;
  tenant: string;
  target: { id: string; name: string; site?: string; kind?: string };
  check: string;
  kind: string;
  state: CheckState;
  since: string;
  lastRun: string | null;
  latencyMs: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  consecutiveFailures: number;
  maintenance?: { id: string; reason: string; until: string } | null;
  silenced?: { ids: string[]; text: string; until: string } | null;
  history?: { at: number[]; latencyMs: (number | null)[]; outcome: ('ok' | 'fail' | 'cannot-run')[] };
}

interface ChecksAnswer {
  items: ApiCheck[];
  counts: Record<CheckState, number>;
  /** Checks past the first 500 listed, which come without their history. */
  historyOmitted?: number;
}

/** Checks drawn at most: more would make the page slow to draw and to read; the filters narrow it. */
const MAX_SHOWN = 500;

const TEXT = {
  en: {
    title: 'Checks',
    intro: 'Every check you may see, refreshed every 15 seconds.',
    state: { up: 'Up', down: 'Down', unknown: 'Not run yet', 'cannot-run': 'Cannot run' } as Record<CheckState, string>,
    counts: 'Checks per state',
    filterState: 'State',
    allStates: 'All states',
    filterText: 'Search',
    filterTextHint: 'Target, check, site or error',
    tenant: 'Tenant',
    site: 'Site',
    noSite: 'No site',
    shown: (n: number, of: number) => `${n} of ${of} checks shown`,
    capped: (max: number, n: number) => `Only the first ${max} of ${n} matching checks are drawn; narrow the filter to see the others.`,
    historyOmitted: (n: number) => `${n} checks come without latency history; filter by state to see theirs.`,
    none: 'No check matches.',
    noChecks: 'No checks are configured for you.',
    lastRun: 'Last result',
    never: 'not run yet',
    since: 'since',
    lastError: 'Last error',
    latency: 'Latency',
    history: (n: number, min: string, avg: string, max: string) => `Last ${n} runs: min ${min}, avg ${avg}, max ${max}`,
    failedRuns: (n: number) => (n === 1 ? '1 failed run' : `${n} failed runs`),
    noHistory: 'No latency history yet',
    maintenance: 'In maintenance',
    maintenanceTitle: (reason: string, until: string) => `${reason}, until ${until}`,
    silenced: 'Silenced',
    silencedTitle: (text: string, until: string) => `${text}, until ${until}`,
    loading: 'Loading…',
    loadFailed: 'The checks could not be loaded. The daemon did not answer.',
    staleFailed: 'The last refresh failed; what is shown may be out of date.',
    retry: 'Try again',
    updated: 'Updated',
  },
  de: {
    title: 'Prüfungen',
    intro: 'Alle Prüfungen, die Sie sehen dürfen, alle 15 Sekunden aktualisiert.',
    state: { up: 'In Ordnung', down: 'Ausgefallen', unknown: 'Noch nicht gelaufen', 'cannot-run': 'Nicht ausführbar' } as Record<CheckState, string>,
    counts: 'Prüfungen je Zustand',
    filterState: 'Zustand',
    allStates: 'Alle Zustände',
    filterText: 'Suche',
    filterTextHint: 'Ziel, Prüfung, Standort oder Fehler',
    tenant: 'Mandant',
    site: 'Standort',
    noSite: 'Ohne Standort',
    shown: (n: number, of: number) => `${n} von ${of} Prüfungen angezeigt`,
    capped: (max: number, n: number) => `Nur die ersten ${max} von ${n} passenden Prüfungen werden gezeigt; grenzen Sie die Suche ein, um die übrigen zu sehen.`,
    historyOmitted: (n: number) => `${n} Prüfungen kommen ohne Verlauf der Antwortzeit; filtern Sie nach Zustand, um ihn zu sehen.`,
    none: 'Keine Prüfung passt.',
    noChecks: 'Für Sie sind keine Prüfungen eingerichtet.',
    lastRun: 'Letztes Ergebnis',
    never: 'noch nicht gelaufen',
    since: 'seit',
    lastError: 'Letzter Fehler',
    latency: 'Antwortzeit',
    history: (n: number, min: string, avg: string, max: string) => `Letzte ${n} Läufe: min. ${min}, Mittel ${avg}, max. ${max}`,
    failedRuns: (n: number) => (n === 1 ? '1 fehlgeschlagener Lauf' : `${n} fehlgeschlagene Läufe`),
    noHistory: 'Noch kein Verlauf der Antwortzeit',
    maintenance: 'In Wartung',
    maintenanceTitle: (reason: string, until: string) => `${reason}, bis ${until}`,
    silenced: 'Stummgeschaltet',
    silencedTitle: (text: string, until: string) => `${text}, bis ${until}`,
    loading: 'Wird geladen…',
    loadFailed: 'Die Prüfungen konnten nicht geladen werden. Der Dienst hat nicht geantwortet.',
    staleFailed: 'Die letzte Aktualisierung ist fehlgeschlagen; die Anzeige ist vielleicht nicht aktuell.',
    retry: 'Erneut versuchen',
    updated: 'Aktualisiert',
  },
};

const LOCALES: Record<Language, string> = { en: 'en-GB', de: 'de-DE' };

/** With seconds: checks run every few seconds, and minutes alone would hide that. */
function formatTime(lang: Language, iso: string | number): string {
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

function formatMs(lang: Language, ms: number): string {
  return `${new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: ms < 10 ? 2 : ms < 100 ? 1 : 0 }).format(ms)} ms`;
}

type Load = { kind: 'loading' } | { kind: 'failed'; status: number | null } | { kind: 'ok'; answer: ChecksAnswer; at: number; stale: boolean };

export function ChecksPage() {
  return (
    <RequireRole roles={STAFF}>
      <ChecksBoard />
    </RequireRole>
  );
}

function ChecksBoard() {
  const text = useText(TEXT);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<CheckState | ''>('');
  const [query, setQuery] = useState('');

  useEffect(() => {
    document.title = text.title;
  }, [text]);

  useEffect(() => {
    const abort = new AbortController();
    const get = () =>
      // The state filter goes to the daemon, so the 500 checks that carry a history are ones shown.
      api<ChecksAnswer>('GET', `/api/v1/checks?include=history${state === '' ? '' : `&state=${state}`}`, undefined, abort.signal).then(
        (answer) => setLoad({ kind: 'ok', answer, at: Date.now(), stale: false }),
        (err: unknown) => {
          if (abort.signal.aborted) return;
          // A failed refresh keeps what is shown and says so; only a first load shows the error.
          setLoad((prev) => (prev.kind === 'ok' ? { ...prev, stale: true } : { kind: 'failed', status: err instanceof ApiError ? err.status : null }));
        },
      );
    void get();
    const timer = setInterval(() => void get(), REFRESH_MS);
    return () => {
      abort.abort();
      clearInterval(timer);
    };
  }, [attempt, state]);


  return (
    <section class="checks">
      <h1>{text.title}</h1>
      <p class="muted">{text.intro}</p>
      {load.kind === 'loading' && <p aria-live="polite">{text.loading}</p>}
      {load.kind === 'failed' && (
        <div>
          <p role="alert">{text.loadFailed}</p>
          <button
            type="button"
            onClick={() => {
              setLoad({ kind: 'loading' });
              setAttempt((n) => n + 1);
            }}
          >
            {text.retry}
          </button>
        </div>
      )}
      {load.kind === 'ok' && <Board answer={load.answer} at={load.at} stale={load.stale} state={state} setState={setState} query={query} setQuery={setQuery} />}
    </section>
  );
}

interface BoardProps {
  answer: ChecksAnswer;
  at: number;
  stale: boolean;
  state: CheckState | '';
  setState: (s: CheckState | '') => void;
  query: string;
  setQuery: (q: string) => void;
}

function matches(c: ApiCheck, words: string[]): boolean {
  if (words.length === 0) return true;
  const hay = [c.tenant, c.target.id, c.target.name, c.target.site ?? '', c.check, c.kind, c.lastError ?? ''].join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}

/** tenant → site → target → checks, each level sorted by name. */
function groups(items: ApiCheck[]): [string, [string, [string, ApiCheck[]][]][]][] {
  const byTenant = new Map<string, Map<string, Map<string, ApiCheck[]>>>();
  for (const c of items) {
    const sites = byTenant.get(c.tenant) ?? new Map<string, Map<string, ApiCheck[]>>();
    byTenant.set(c.tenant, sites);
    const site = c.target.site ?? '';
    const targets = sites.get(site) ?? new Map<string, ApiCheck[]>();
    sites.set(site, targets);
    const list = targets.get(c.target.id) ?? [];
    targets.set(c.target.id, list);
    list.push(c);
  }
  const byName = <T,>(a: [string, T], b: [string, T]) => a[0].localeCompare(b[0]);
  return [...byTenant]
    .sort(byName)
    .map(([tenant, sites]) => [tenant, [...sites].sort(byName).map(([site, targets]) => [site, [...targets].sort(byName)] as [string, [string, ApiCheck[]][]])]);
}

function Board({ answer, at, stale, state, setState, query, setQuery }: BoardProps) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== '');
  const shown = useMemo(() => answer.items.filter((c) => (state === '' || c.state === state) && matches(c, words)), [answer, state, query]);
  const tree = useMemo(() => groups(shown.slice(0, MAX_SHOWN)), [shown]);
  const tenants = new Set(answer.items.map((c) => c.tenant));
  const total = STATES.reduce((n, s) => n + answer.counts[s], 0);

  return (
    <>
      <ul class="counts" aria-label={text.counts}>
        {STATES.map((s) => (
          <li key={s} class={`state state-${s}`}>
            <span class="dot" aria-hidden="true" />
            {text.state[s]}: <strong>{answer.counts[s]}</strong>
          </li>
        ))}
      </ul>
      <p class="muted small" aria-live="polite">
        {text.updated}: <time dateTime={new Date(at).toISOString()}>{formatTime(lang, at)}</time>
        {stale && <span role="alert"> {text.staleFailed}</span>}
      </p>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label for="checks-state">{text.filterState}</label>
          <select id="checks-state" value={state} onChange={(e) => setState(e.currentTarget.value as CheckState | '')}>
            <option value="">{text.allStates}</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {text.state[s]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="checks-text">{text.filterText}</label>
          <input id="checks-text" type="search" value={query} placeholder={text.filterTextHint} onInput={(e) => setQuery(e.currentTarget.value)} />
        </div>
      </form>
      <p class="small" aria-live="polite">
        {total === 0 ? text.noChecks : shown.length === 0 ? text.none : text.shown(shown.length, total)}
      </p>
      {shown.length > MAX_SHOWN && <p class="small">{text.capped(MAX_SHOWN, shown.length)}</p>}
      {(answer.historyOmitted ?? 0) > 0 && <p class="small">{text.historyOmitted(answer.historyOmitted ?? 0)}</p>}
      {tree.map(([tenant, sites]) => {
        const siteList = sites.map(([site, targets]) => <Site key={site} site={site} targets={targets} level={tenants.size > 1 ? 3 : 2} />);
        if (tenants.size <= 1) return siteList;
        return (
          <section key={tenant} class="tenant" aria-label={`${text.tenant} ${tenant}`}>
            <h2>
              {text.tenant} {tenant}
            </h2>
            {siteList}
          </section>
        );
      })}
    </>
  );
}

function Site({ site, targets, level }: { site: string; targets: [string, ApiCheck[]][]; level: 2 | 3 }) {
  const text = useText(TEXT);
  const name = site === '' ? text.noSite : `${text.site} ${site}`;
  const H = level === 2 ? 'h2' : 'h3';
  const T = level === 2 ? 'h3' : 'h4';
  return (
    <section class="site" aria-label={name}>
      <H>{name}</H>
      {targets.map(([id, checks]) => (
        <div key={id} class="target">
          <T>
            {checks[0]!.target.name}
            {checks[0]!.target.name !== id && <span class="muted small"> ({id})</span>}
          </T>
          <ul class="check-list">
            {checks.map((c) => (
              <Check key={c.id} check={c} />
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

function Check({ check: c }: { check: ApiCheck }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  return (
    <li class={`check check-${c.state}`}>
      <div class="check-head">
        <strong class="check-name">{c.check}</strong> <span class="muted small">{c.kind}</span>
        <span class={`state state-${c.state}`}>
          <span class="dot" aria-hidden="true" />
          {text.state[c.state]}
        </span>
        {c.maintenance && (
          <span class="badge badge-maintenance" title={text.maintenanceTitle(c.maintenance.reason, formatTime(lang, c.maintenance.until))}>
            {text.maintenance}
          </span>
        )}
        {c.silenced && (
          <span class="badge badge-silenced" title={text.silencedTitle(c.silenced.text, formatTime(lang, c.silenced.until))}>
            {text.silenced}
          </span>
        )}
      </div>
      <p class="meta small">
        {text.lastRun}: {c.lastRun === null ? text.never : <time dateTime={c.lastRun}>{formatTime(lang, c.lastRun)}</time>}
        {c.latencyMs !== null && ` · ${text.latency} ${formatMs(lang, c.latencyMs)}`} · {text.since}{' '}
        <time dateTime={c.since}>{formatTime(lang, c.since)}</time>
      </p>
      {c.lastError !== null && (
        <p class="meta small error">
          {text.lastError}
          {c.lastErrorAt !== null && (
            <>
              {' '}
              (<time dateTime={c.lastErrorAt}>{formatTime(lang, c.lastErrorAt)}</time>)
            </>
          )}
          : {c.lastError}
        </p>
      )}
      {c.history && <Sparkline history={c.history} />}
    </li>
  );
}

const SPARK_W = 120;
const SPARK_H = 24;

/** The recent latencies as a line (failed runs as red marks), and the same in words beside it. */
function Sparkline({ history }: { history: NonNullable<ApiCheck['history']> }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const values = history.latencyMs.filter((v): v is number => v !== null);
  const failed = history.outcome.filter((o) => o === 'fail').length;
  if (values.length === 0) return <p class="meta small muted">{text.noHistory}</p>;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const avg = values.reduce((a, b) => a + b, 0) / values.length;
  const n = history.latencyMs.length;
  const x = (i: number) => (n === 1 ? SPARK_W / 2 : (i / (n - 1)) * (SPARK_W - 2) + 1);
  const y = (v: number) => (max === min ? SPARK_H / 2 : SPARK_H - 2 - ((v - min) / (max - min)) * (SPARK_H - 4));
  const points = history.latencyMs.flatMap((v, i) => (v === null ? [] : [`${x(i).toFixed(1)},${y(v).toFixed(1)}`])).join(' ');
  return (
    <p class="meta small spark">
      <svg width={SPARK_W} height={SPARK_H} viewBox={`0 0 ${SPARK_W} ${SPARK_H}`} aria-hidden="true" focusable="false">
        <polyline points={points} fill="none" stroke="#0969da" stroke-width="1.5" />
        {history.outcome.map((o, i) => (o === 'ok' ? null : <rect key={i} x={x(i) - 1} y={SPARK_H - 4} width="2" height="4" fill={o === 'fail' ? '#cf222e' : '#6e7781'} />))}
      </svg>
      <span>
        {text.history(n, formatMs(lang, min), formatMs(lang, avg), formatMs(lang, max))}
        {failed > 0 && ` · ${text.failedRuns(failed)}`}
      </span>
    </p>
  );
}
