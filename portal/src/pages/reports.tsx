// The reports page (issue 18): one period beside the one before it, for the tenants a person may
// see. Filters (tenant, period length, which period, and each table's grouping) live in the address,
// so a view can be bookmarked and sent. Every table links to the API's CSV of the same figures, every
// chart has a table that says the same in words. Loaded on demand (app.tsx imports it lazily), so
// uPlot is only downloaded by those who open it.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useText, useUi } from '../context';
import { formatDateTime, formatDay, type Language } from '../i18n';
import { RequireRole } from '../guard';
import { Link, STAFF } from '../link';
import { navigate } from '../router';
import { api, ApiError, useSession, type Me } from '../session';
import { Chart, type ChartSeries } from './report-chart';

const PERIODS = ['day', 'week', 'month'] as const;
type Period = (typeof PERIODS)[number];
const WHICH = ['this', 'previous', 'date'] as const;
type Which = (typeof WHICH)[number];
const DIMENSIONS = ['category', 'severity', 'impact', 'priority', 'site', 'target', 'source', 'tenant'] as const;
type Dimension = (typeof DIMENSIONS)[number];
const TIME_GROUPS = ['severity', 'tier', 'category'] as const;
type TimeGroup = (typeof TIME_GROUPS)[number];
const SLA_GROUPS = ['severity', 'tier', 'tenant'] as const;
type SlaGroup = (typeof SLA_GROUPS)[number];
type Measure = 'acknowledge' | 'resolve';

const LOCALES: Record<Language, string> = { en: 'en-GB', de: 'de-DE' };

const TEXT = {
  en: {
    title: 'Reports',
    filters: 'Filters',
    tenant: 'Tenant',
    allTenants: 'All tenants',
    periodLength: 'Period',
    period: { day: 'Day', week: 'Week', month: 'Month' } as Record<Period, string>,
    which: 'Which period',
    whichOption: { this: 'This one', previous: 'The one before', date: 'The one containing a date' } as Record<Which, string>,
    date: 'Date',
    show: 'Show',
    reportOn: (label: string, zone: string) => `Period ${label}, times in ${zone}`,
    noAccessTitle: 'No access to reports',
    noAccess: 'Reports are shown to agents, engineers, managers and administrators. Ask an administrator if you need them.',
    loading: 'Loading…',
    failed: 'This report could not be loaded. The service may be restarting; try again in a moment.',
    retry: 'Try again',
    downloadCsv: 'Download CSV',
    none: '(none)',
    noData: 'No incidents in this period.',
    noHandled: 'No incident was acknowledged or resolved in this period.',
    countsTitle: 'Incidents compared with the period before',
    countBy: 'Count by',
    dimension: { category: 'Category', severity: 'Severity', impact: 'Impact', priority: 'Priority', site: 'Site', target: 'Target', source: 'Source', tenant: 'Tenant', tier: 'Tier' } as Record<Dimension | 'tier', string>,
    current: 'This period',
    previous: 'Period before',
    change: 'Change',
    changePct: 'Change in %',
    total: 'Total',
    summary: (cur: number, prev: number, label: string) => `${cur} incidents in ${label}, ${prev} in the period before.`,
    trendTitle: 'Trend over the last 12 periods',
    trendTable: 'Trend as a table',
    periodCol: 'Period',
    timesTitle: 'Handling times',
    groupBy: 'Group by',
    measure: { acknowledge: 'Time to acknowledge', resolve: 'Time to resolve' } as Record<Measure, string>,
    measureCol: 'Measure',
    count: 'Incidents',
    median: 'Median',
    p90: '90th percentile',
    mean: 'Mean',
    businessMedian: 'Median, business time',
    businessP90: '90th percentile, business time',
    businessMean: 'Mean, business time',
    businessNote: 'Business time counts only the open hours (and not the holidays) of the calendar each incident’s SLA runs on.',
    downloadBusinessCsv: 'Download CSV (business time)',
    slaTitle: 'SLA compliance',
    withSla: 'With an SLA',
    met: 'Met',
    breached: 'Breached',
    pending: 'Pending',
    metPct: 'Met in %',
    notDecided: 'none decided yet',
    breachesTitle: 'SLA breaches',
    noBreaches: 'No SLA was breached in this period.',
    incident: 'Incident',
    severityCol: 'Severity',
    tier: 'Tier',
    opened: 'Opened',
    due: 'Due',
    done: 'Done',
    notDone: 'not yet',
    recurringTitle: 'Recurring problems',
    fingerprints: 'Problems that came back most',
    fingerprint: 'Fingerprint',
    openings: 'Opened',
    reopenings: 'Reopened',
    flapping: 'Flapped',
    targets: 'Targets with the most incidents and downtime',
    downtime: 'Downtime',
    heatmapTitle: 'Busiest hours',
    heatmapCaption: 'Incidents opened per weekday and hour of the day',
    weekday: 'Weekday',
    hour: 'Hour',
    weekdays: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
    backlogTitle: 'Backlog',
    backlogSummary: (max: number, last: number) => `At most ${max} incidents open at the end of a day; ${last} at the end of the last day.`,
    backlogTable: 'Backlog as a table',
    day: 'Day',
    open: 'Open at the end of the day',
    severity: { minor: 'Minor', medium: 'Medium', severe: 'Severe', major: 'Major' } as Record<string, string>,
  },
  de: {
    title: 'Berichte',
    filters: 'Filter',
    tenant: 'Mandant',
    allTenants: 'Alle Mandanten',
    periodLength: 'Zeitraum',
    period: { day: 'Tag', week: 'Woche', month: 'Monat' } as Record<Period, string>,
    which: 'Welcher Zeitraum',
    whichOption: { this: 'Der aktuelle', previous: 'Der vorige', date: 'Der mit einem Datum' } as Record<Which, string>,
    date: 'Datum',
    show: 'Anzeigen',
    reportOn: (label: string, zone: string) => `Zeitraum ${label}, Zeiten in ${zone}`,
    noAccessTitle: 'Kein Zugriff auf Berichte',
    noAccess: 'Berichte sehen Agenten, Techniker, Manager und Administratoren. Wenden Sie sich an einen Administrator, wenn Sie sie brauchen.',
    loading: 'Wird geladen …',
    failed: 'Dieser Bericht konnte nicht geladen werden. Der Dienst startet vielleicht gerade neu; bitte gleich noch einmal versuchen.',
    retry: 'Erneut versuchen',
    downloadCsv: 'CSV herunterladen',
    none: '(keine Angabe)',
    noData: 'Keine Störungen in diesem Zeitraum.',
    noHandled: 'In diesem Zeitraum wurde keine Störung angenommen oder gelöst.',
    countsTitle: 'Störungen im Vergleich zum vorigen Zeitraum',
    countBy: 'Zählen nach',
    dimension: { category: 'Kategorie', severity: 'Schweregrad', impact: 'Auswirkung', priority: 'Priorität', site: 'Standort', target: 'Ziel', source: 'Quelle', tenant: 'Mandant', tier: 'Supportstufe' } as Record<Dimension | 'tier', string>,
    current: 'Dieser Zeitraum',
    previous: 'Voriger Zeitraum',
    change: 'Veränderung',
    changePct: 'Veränderung in %',
    total: 'Gesamt',
    summary: (cur: number, prev: number, label: string) => `${cur} Störungen in ${label}, ${prev} im vorigen Zeitraum.`,
    trendTitle: 'Verlauf der letzten 12 Zeiträume',
    trendTable: 'Verlauf als Tabelle',
    periodCol: 'Zeitraum',
    timesTitle: 'Bearbeitungszeiten',
    groupBy: 'Gruppieren nach',
    measure: { acknowledge: 'Zeit bis zur Annahme', resolve: 'Zeit bis zur Lösung' } as Record<Measure, string>,
    measureCol: 'Messgröße',
    count: 'Störungen',
    median: 'Median',
    p90: '90. Perzentil',
    mean: 'Mittelwert',
    businessMedian: 'Median, Geschäftszeit',
    businessP90: '90. Perzentil, Geschäftszeit',
    businessMean: 'Mittelwert, Geschäftszeit',
    businessNote: 'Geschäftszeit zählt nur die Öffnungszeiten (ohne Feiertage) des Kalenders, nach dem die SLA der Störung läuft.',
    downloadBusinessCsv: 'CSV herunterladen (Geschäftszeit)',
    slaTitle: 'SLA-Einhaltung',
    withSla: 'Mit SLA',
    met: 'Eingehalten',
    breached: 'Verletzt',
    pending: 'Offen',
    metPct: 'Eingehalten in %',
    notDecided: 'noch keine entschieden',
    breachesTitle: 'SLA-Verletzungen',
    noBreaches: 'In diesem Zeitraum wurde kein SLA verletzt.',
    incident: 'Störung',
    severityCol: 'Schweregrad',
    tier: 'Supportstufe',
    opened: 'Eröffnet',
    due: 'Fällig',
    done: 'Erledigt',
    notDone: 'noch nicht',
    recurringTitle: 'Wiederkehrende Probleme',
    fingerprints: 'Probleme, die am häufigsten wiederkamen',
    fingerprint: 'Fingerabdruck',
    openings: 'Eröffnet',
    reopenings: 'Wieder eröffnet',
    flapping: 'Geflattert',
    targets: 'Ziele mit den meisten Störungen und Ausfallzeiten',
    downtime: 'Ausfallzeit',
    heatmapTitle: 'Stoßzeiten',
    heatmapCaption: 'Eröffnete Störungen je Wochentag und Stunde',
    weekday: 'Wochentag',
    hour: 'Stunde',
    weekdays: ['Montag', 'Dienstag', 'Mittwoch', 'Donnerstag', 'Freitag', 'Samstag', 'Sonntag'],
    backlogTitle: 'Rückstau',
    backlogSummary: (max: number, last: number) => `Höchstens ${max} Störungen offen am Ende eines Tages; ${last} am Ende des letzten Tages.`,
    backlogTable: 'Rückstau als Tabelle',
    day: 'Tag',
    open: 'Offen am Tagesende',
    severity: { minor: 'Gering', medium: 'Mittel', severe: 'Schwer', major: 'Kritisch' } as Record<string, string>,
  },
};
type Text = (typeof TEXT)['en'];

// ---- Answers of src/api/reports.ts ----
interface Range {
  start: string;
  end: string;
  label: string;
}
interface CountsAnswer {
  zone: string;
  current: Range;
  previous: Range;
  periods: Range[];
  totals: { current: number; previous: number; change: number; changePct: number | null; trend: number[] };
  rows: { key: string; current: number; previous: number; change: number; changePct: number | null; trend: number[] }[];
}
interface TimesAnswer {
  rows: { key: string; measure: Measure; count: number; medianMs: number; p90Ms: number; meanMs: number }[];
}
interface SlaAnswer {
  rows: { key: string; measure: Measure; withSla: number; met: number; breached: number; pending: number; metPct: number | null }[];
}
interface BreachesAnswer {
  items: { number: string; tenant: string; severity: string; tier: string; measure: Measure; openedAt: string; dueAt: string; doneAt: string | null }[];
}
interface FingerprintsAnswer {
  rows: { fingerprint: string; targetId: string; openings: number; reopenings: number; flapping: number }[];
}
interface TargetsAnswer {
  rows: { targetId: string; targetName: string; incidents: number; downtimeMs: number }[];
}
interface HeatmapAnswer {
  hours: number[][];
}
interface BacklogAnswer {
  current: Range;
  rows: { day: string; endsAt: string; open: number }[];
}

// ---- The address ----
interface Filters {
  tenant: string;
  period: Period;
  which: Which;
  date: string;
  by: Dimension;
  times: TimeGroup;
  sla: SlaGroup;
}

function oneOf<T extends string>(all: readonly T[], v: string | null, fallback: T): T {
  return v !== null && (all as readonly string[]).includes(v) ? (v as T) : fallback;
}

function filtersOf(search: string): Filters {
  const q = new URLSearchParams(search);
  const date = q.get('date') ?? '';
  const which = oneOf(WHICH, q.get('which'), 'this');
  return {
    tenant: q.get('tenant') ?? '',
    period: oneOf(PERIODS, q.get('period'), 'month'),
    // A date that is not one (typed by hand) falls back to this period.
    which: which === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(date) ? 'this' : which,
    date,
    by: oneOf(DIMENSIONS, q.get('by'), 'category'),
    times: oneOf(TIME_GROUPS, q.get('times'), 'severity'),
    sla: oneOf(SLA_GROUPS, q.get('sla'), 'severity'),
  };
}

function addressOf(f: Filters): string {
  const q = new URLSearchParams();
  if (f.tenant !== '') q.set('tenant', f.tenant);
  q.set('period', f.period);
  q.set('which', f.which);
  if (f.which === 'date') q.set('date', f.date);
  q.set('by', f.by);
  q.set('times', f.times);
  q.set('sla', f.sla);
  return `/reports?${q.toString()}`;
}

function useSearch(): string {
  const [search, setSearch] = useState(location.search);
  useEffect(() => {
    const changed = () => setSearch(location.search);
    addEventListener('popstate', changed);
    return () => removeEventListener('popstate', changed);
  }, []);
  return search;
}

// ---- Formatting ----
function formatNumber(lang: Language, n: number, digits = 0): string {
  return new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: digits }).format(n);
}

function formatSigned(lang: Language, n: number | null, digits = 0): string {
  if (n === null) return '–';
  return new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: digits, signDisplay: 'exceptZero' }).format(n);
}

/** A duration in its largest fitting unit: "42 sec", "3.5 hr", "2,1 Tg.". */
function formatDuration(lang: Language, ms: number): string {
  const [unit, size] =
    ms < 60_000 ? (['second', 1000] as const) : ms < 3_600_000 ? (['minute', 60_000] as const) : ms < 86_400_000 ? (['hour', 3_600_000] as const) : (['day', 86_400_000] as const);
  return new Intl.NumberFormat(LOCALES[lang], { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(ms / size);
}

function keyLabel(text: Text, dimension: string, key: string): string {
  if (key === '') return text.none;
  if (dimension === 'severity') return text.severity[key] ?? key;
  return key;
}

// ---- Loading ----
type Load<T> = { kind: 'loading' } | { kind: 'failed' } | { kind: 'refused' } | { kind: 'ok'; data: T };

function useReport<T>(path: string | null): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    setLoad({ kind: 'loading' });
    api<T>('GET', path, undefined, abort.signal).then(
      (data) => setLoad({ kind: 'ok', data }),
      (err: unknown) => {
        if (abort.signal.aborted) return;
        // A 401 (the session ended) is the guard's: it sends the person to sign in.
        setLoad(err instanceof ApiError && err.status === 403 ? { kind: 'refused' } : { kind: 'failed' });
      },
    );
    return () => abort.abort();
  }, [path, attempt]);
  return [load, () => setAttempt((n) => n + 1)];
}

function Loading({ load, retry, children }: { load: Load<unknown>; retry: () => void; children: () => preact.ComponentChildren }) {
  const text = useText(TEXT);
  if (load.kind === 'loading') return <p aria-live="polite">{text.loading}</p>;
  if (load.kind === 'refused') return <NoAccess />;
  if (load.kind === 'failed') {
    return (
      <div>
        <p role="alert">{text.failed}</p>
        <button type="button" onClick={retry}>
          {text.retry}
        </button>
      </div>
    );
  }
  return <>{children()}</>;
}

function NoAccess() {
  const text = useText(TEXT);
  return (
    <section class="no-access">
      <h1>{text.noAccessTitle}</h1>
      <p>{text.noAccess}</p>
    </section>
  );
}

function Csv({ path, label }: { path: string; label?: string }) {
  const text = useText(TEXT);
  const sep = path.includes('?') ? '&' : '?';
  return (
    <p class="csv">
      <a href={`${path}${sep}format=csv`} download>
        {label ?? text.downloadCsv}
      </a>
    </p>
  );
}

// ---- The page ----

export function ReportsPage() {
  const text = useText(TEXT);
  const { t } = useUi();
  const { me } = useSession();
  useEffect(() => {
    document.title = `${text.title} · ${t.appName}`;
  }, [text, t]);
  return (
    <RequireRole roles={STAFF} denied={<NoAccess />}>
      {me !== null && <Reports me={me} />}
    </RequireRole>
  );
}

function Reports({ me }: { me: Me }) {
  const text = useText(TEXT);
  const search = useSearch();
  const filters = useMemo(() => filtersOf(search), [search]);
  const change = (next: Partial<Filters>) => navigate(addressOf({ ...filters, ...next }));
  const manyTenants = me.tenants === '*' || me.tenants.length > 1;

  // The tenants to choose from, as the daemon lists them for this person: a scoped person's own,
  // every configured one for the staff who see all (also those without incidents yet). With one
  // tenant there is nothing to choose, and no filter.
  const [known] = useReport<{ tenants: string[] }>(manyTenants ? '/api/v1/reports/tenants' : null);
  const tenants = known.kind === 'ok' ? known.data.tenants : [];

  // "The one before" is the period just before the current one, as the daemon cuts it (in the
  // report's zone): its start, asked once.
  const scope = filters.tenant === '' ? '' : `&tenant=${encodeURIComponent(filters.tenant)}`;
  const [now] = useReport<CountsAnswer>(filters.which === 'previous' ? `/api/v1/reports/counts?period=${filters.period}${scope}` : null);
  let at: string | null = null;
  if (filters.which === 'date') at = filters.date;
  if (filters.which === 'previous') at = now.kind === 'ok' ? now.data.previous.start : null;
  const base = filters.which === 'previous' && at === null ? null : `period=${filters.period}${scope}${at === null ? '' : `&at=${encodeURIComponent(at)}`}`;

  return (
    <article class="reports">
      <h1>{text.title}</h1>
      <FilterForm filters={filters} tenants={manyTenants ? tenants : null} onChange={change} />
      {base === null ? (
        <Loading load={now} retry={() => change({})}>
          {() => null}
        </Loading>
      ) : (
        <>
          <Counts base={base} by={filters.by} multiTenant={manyTenants} onBy={(by) => change({ by })} />
          <Times base={base} by={filters.times} onBy={(times) => change({ times })} />
          <Sla base={base} by={filters.sla} multiTenant={manyTenants} onBy={(sla) => change({ sla })} />
          <Breaches base={base} />
          <Recurring base={base} />
          <Heatmap base={base} />
          <Backlog base={base} />
        </>
      )}
    </article>
  );
}

function FilterForm({ filters, tenants, onChange }: { filters: Filters; tenants: readonly string[] | null; onChange: (f: Partial<Filters>) => void }) {
  const text = useText(TEXT);
  const [date, setDate] = useState(filters.date);
  useEffect(() => setDate(filters.date), [filters.date]);
  return (
    <form
      class="filters"
      aria-label={text.filters}
      onSubmit={(e) => {
        e.preventDefault();
        if (date !== '') onChange({ which: 'date', date });
      }}
    >
      {tenants !== null && (
        <div class="field">
          <label for="report-tenant">{text.tenant}</label>
          <select id="report-tenant" value={filters.tenant} onChange={(e) => onChange({ tenant: e.currentTarget.value })}>
            <option value="">{text.allTenants}</option>
            {[...new Set([...tenants, ...(filters.tenant === '' ? [] : [filters.tenant])])].map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </div>
      )}
      <div class="field">
        <label for="report-period">{text.periodLength}</label>
        <select id="report-period" value={filters.period} onChange={(e) => onChange({ period: e.currentTarget.value as Period })}>
          {PERIODS.map((p) => (
            <option key={p} value={p}>
              {text.period[p]}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="report-which">{text.which}</label>
        <select
          id="report-which"
          value={filters.which}
          onChange={(e) => {
            const which = e.currentTarget.value as Which;
            // Picking "a date" waits for the date; the others apply at once.
            if (which !== 'date') onChange({ which });
            else if (date !== '') onChange({ which, date });
            else onChange({ which, date: new Date().toISOString().slice(0, 10) });
          }}
        >
          {WHICH.map((w) => (
            <option key={w} value={w}>
              {text.whichOption[w]}
            </option>
          ))}
        </select>
      </div>
      {filters.which === 'date' && (
        <>
          <div class="field">
            <label for="report-date">{text.date}</label>
            <input id="report-date" type="date" value={date} required onInput={(e) => setDate(e.currentTarget.value)} />
          </div>
          <button type="submit">{text.show}</button>
        </>
      )}
    </form>
  );
}

function GroupSelect<T extends string>({ id, label, value, options, names, onChange }: { id: string; label: string; value: T; options: readonly T[]; names: Record<string, string>; onChange: (v: T) => void }) {
  return (
    <div class="field group">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value as T)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {names[o] ?? o}
          </option>
        ))}
      </select>
    </div>
  );
}

function Counts({ base, by, multiTenant, onBy }: { base: string; by: Dimension; multiTenant: boolean; onBy: (by: Dimension) => void }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const path = `/api/v1/reports/counts?by=${by}&${base}`;
  const [load, retry] = useReport<CountsAnswer>(path);
  return (
    <section aria-labelledby="counts-h">
      <h2 id="counts-h">{text.countsTitle}</h2>
      <GroupSelect id="report-counts-by" label={text.countBy} value={by} options={DIMENSIONS.filter((d) => multiTenant || d !== 'tenant')} names={text.dimension} onChange={onBy} />
      <Loading load={load} retry={retry}>
        {() => {
          const c = (load as { data: CountsAnswer }).data;
          return (
            <>
              <p class="period-label">{text.reportOn(c.current.label, c.zone)}</p>
              <p role="status">{text.summary(c.totals.current, c.totals.previous, c.current.label)}</p>
              <div class="scroll">
                <table>
                  <caption class="sr-only">{text.countsTitle}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{text.dimension[by]}</th>
                      <th scope="col" class="num">{text.current} ({c.current.label})</th>
                      <th scope="col" class="num">{text.previous} ({c.previous.label})</th>
                      <th scope="col" class="num">{text.change}</th>
                      <th scope="col" class="num">{text.changePct}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {c.rows.map((r) => (
                      <tr key={r.key}>
                        <th scope="row">{keyLabel(text, by, r.key)}</th>
                        <td class="num">{formatNumber(lang, r.current)}</td>
                        <td class="num">{formatNumber(lang, r.previous)}</td>
                        <td class="num">{formatSigned(lang, r.change)}</td>
                        <td class="num">{formatSigned(lang, r.changePct, 1)}</td>
                      </tr>
                    ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row">{text.total}</th>
                      <td class="num">{formatNumber(lang, c.totals.current)}</td>
                      <td class="num">{formatNumber(lang, c.totals.previous)}</td>
                      <td class="num">{formatSigned(lang, c.totals.change)}</td>
                      <td class="num">{formatSigned(lang, c.totals.changePct, 1)}</td>
                    </tr>
                  </tfoot>
                </table>
              </div>
              <Csv path={path} />
              <Trend counts={c} by={by} />
            </>
          );
        }}
      </Loading>
    </section>
  );
}

/** The total and the five largest rows over the twelve periods. */
function Trend({ counts, by }: { counts: CountsAnswer; by: Dimension }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const labels = useMemo(() => counts.periods.map((p) => p.label), [counts]);
  const top = counts.rows.slice(0, 5);
  const series: ChartSeries[] = useMemo(
    () => [{ label: text.total, values: counts.totals.trend }, ...top.map((r) => ({ label: keyLabel(text, by, r.key), values: r.trend }))],
    [counts, text, by],
  );
  return (
    <figure class="figure" aria-labelledby="trend-h">
      <h3 id="trend-h">{text.trendTitle}</h3>
      <Chart labels={labels} series={series} />
      <details>
        <summary>{text.trendTable}</summary>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{text.periodCol}</th>
                {series.map((s) => (
                  <th key={s.label} scope="col" class="num">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {labels.map((l, i) => (
                <tr key={l}>
                  <th scope="row">{l}</th>
                  {series.map((s) => (
                    <td key={s.label} class="num">
                      {formatNumber(lang, s.values[i] ?? 0)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

function Times({ base, by, onBy }: { base: string; by: TimeGroup; onBy: (by: TimeGroup) => void }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const path = `/api/v1/reports/handling-times?by=${by}&${base}`;
  const businessPath = `${path}&time=business`;
  const [load, retry] = useReport<TimesAnswer>(path);
  // Business time beside calendar time, row by row; its cells wait for their own answer.
  const [business] = useReport<TimesAnswer>(businessPath);
  const businessRows = new Map(business.kind === 'ok' ? business.data.rows.map((r) => [`${r.key}/${r.measure}`, r]) : []);
  const pending = business.kind === 'ok' ? '–' : '…';
  return (
    <section aria-labelledby="times-h">
      <h2 id="times-h">{text.timesTitle}</h2>
      <GroupSelect id="report-times-by" label={text.groupBy} value={by} options={TIME_GROUPS} names={text.dimension} onChange={onBy} />
      <Loading load={load} retry={retry}>
        {() => {
          const rows = (load as { data: TimesAnswer }).data.rows;
          if (rows.length === 0) return <p>{text.noHandled}</p>;
          return (
            <>
              {/* Nine columns scroll sideways on a phone: focusable, so the keyboard can scroll them too. */}
              <div class="scroll" tabIndex={0} role="region" aria-label={text.timesTitle}>
                <table>
                  <caption class="sr-only">{text.timesTitle}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{text.dimension[by]}</th>
                      <th scope="col">{text.measureCol}</th>
                      <th scope="col" class="num">{text.count}</th>
                      <th scope="col" class="num">{text.median}</th>
                      <th scope="col" class="num">{text.p90}</th>
                      <th scope="col" class="num">{text.mean}</th>
                      <th scope="col" class="num">{text.businessMedian}</th>
                      <th scope="col" class="num">{text.businessP90}</th>
                      <th scope="col" class="num">{text.businessMean}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r) => {
                      const b = businessRows.get(`${r.key}/${r.measure}`);
                      return (
                        <tr key={`${r.key}/${r.measure}`}>
                          <th scope="row">{keyLabel(text, by, r.key)}</th>
                          <td>{text.measure[r.measure]}</td>
                          <td class="num">{formatNumber(lang, r.count)}</td>
                          <td class="num">{formatDuration(lang, r.medianMs)}</td>
                          <td class="num">{formatDuration(lang, r.p90Ms)}</td>
                          <td class="num">{formatDuration(lang, r.meanMs)}</td>
                          <td class="num">{b ? formatDuration(lang, b.medianMs) : pending}</td>
                          <td class="num">{b ? formatDuration(lang, b.p90Ms) : pending}</td>
                          <td class="num">{b ? formatDuration(lang, b.meanMs) : pending}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              <p class="hint">{text.businessNote}</p>
            </>
          );
        }}
      </Loading>
      <Csv path={path} />
      <Csv path={businessPath} label={text.downloadBusinessCsv} />
    </section>
  );
}

function Sla({ base, by, multiTenant, onBy }: { base: string; by: SlaGroup; multiTenant: boolean; onBy: (by: SlaGroup) => void }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const path = `/api/v1/reports/sla?by=${by}&${base}`;
  const [load, retry] = useReport<SlaAnswer>(path);
  return (
    <section aria-labelledby="sla-h">
      <h2 id="sla-h">{text.slaTitle}</h2>
      <GroupSelect id="report-sla-by" label={text.groupBy} value={by} options={SLA_GROUPS.filter((g) => multiTenant || g !== 'tenant')} names={text.dimension} onChange={onBy} />
      <Loading load={load} retry={retry}>
        {() => {
          const rows = (load as { data: SlaAnswer }).data.rows;
          if (rows.length === 0) return <p>{text.noData}</p>;
          return (
            <div class="scroll">
              <table>
                <caption class="sr-only">{text.slaTitle}</caption>
                <thead>
                  <tr>
                    <th scope="col">{text.dimension[by]}</th>
                    <th scope="col">{text.measureCol}</th>
                    <th scope="col" class="num">{text.withSla}</th>
                    <th scope="col" class="num">{text.met}</th>
                    <th scope="col" class="num">{text.breached}</th>
                    <th scope="col" class="num">{text.pending}</th>
                    <th scope="col">{text.metPct}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={`${r.key}/${r.measure}`}>
                      <th scope="row">{keyLabel(text, by, r.key)}</th>
                      <td>{text.measure[r.measure]}</td>
                      <td class="num">{formatNumber(lang, r.withSla)}</td>
                      <td class="num">{formatNumber(lang, r.met)}</td>
                      <td class="num">{formatNumber(lang, r.breached)}</td>
                      <td class="num">{formatNumber(lang, r.pending)}</td>
                      <td>
                        {r.metPct === null ? (
                          <span class="muted">{text.notDecided}</span>
                        ) : (
                          <span class="meter">
                            <span class="meter-bar" aria-hidden="true">
                              <span class={r.metPct >= 90 ? 'fill ok' : 'fill bad'} style={{ width: `${r.metPct}%` }} />
                            </span>
                            {formatNumber(lang, r.metPct, 1)} %
                          </span>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Loading>
      <Csv path={path} />
    </section>
  );
}

function Breaches({ base }: { base: string }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const path = `/api/v1/reports/sla/breaches?${base}`;
  const [load, retry] = useReport<BreachesAnswer>(path);
  return (
    <section aria-labelledby="breaches-h">
      <h2 id="breaches-h">{text.breachesTitle}</h2>
      <Loading load={load} retry={retry}>
        {() => {
          const items = (load as { data: BreachesAnswer }).data.items;
          if (items.length === 0) return <p>{text.noBreaches}</p>;
          return (
            <div class="scroll">
              <table>
                <caption class="sr-only">{text.breachesTitle}</caption>
                <thead>
                  <tr>
                    <th scope="col">{text.incident}</th>
                    <th scope="col">{text.tenant}</th>
                    <th scope="col">{text.severityCol}</th>
                    <th scope="col">{text.tier}</th>
                    <th scope="col">{text.measureCol}</th>
                    <th scope="col">{text.opened}</th>
                    <th scope="col">{text.due}</th>
                    <th scope="col">{text.done}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((b) => (
                    <tr key={`${b.number}/${b.measure}`}>
                      <th scope="row">
                        <Link href={`/incidents/${encodeURIComponent(b.number)}`}>{b.number}</Link>
                      </th>
                      <td>{b.tenant}</td>
                      <td>{keyLabel(text, 'severity', b.severity)}</td>
                      <td>{b.tier}</td>
                      <td>{text.measure[b.measure]}</td>
                      <td>{formatDateTime(lang, b.openedAt)}</td>
                      <td>{formatDateTime(lang, b.dueAt)}</td>
                      <td>{b.doneAt === null ? text.notDone : formatDateTime(lang, b.doneAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Loading>
      <Csv path={path} />
    </section>
  );
}

function Recurring({ base }: { base: string }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const fpPath = `/api/v1/reports/fingerprints?${base}`;
  const tgPath = `/api/v1/reports/targets?${base}`;
  const [fps, retryFps] = useReport<FingerprintsAnswer>(fpPath);
  const [tgs, retryTgs] = useReport<TargetsAnswer>(tgPath);
  return (
    <section aria-labelledby="recurring-h">
      <h2 id="recurring-h">{text.recurringTitle}</h2>
      <h3 id="fp-h">{text.fingerprints}</h3>
      <Loading load={fps} retry={retryFps}>
        {() => {
          const rows = (fps as { data: FingerprintsAnswer }).data.rows;
          if (rows.length === 0) return <p>{text.noData}</p>;
          return (
            <div class="scroll">
              <table aria-labelledby="fp-h">
                <thead>
                  <tr>
                    <th scope="col">{text.fingerprint}</th>
                    <th scope="col">{text.dimension.target}</th>
                    <th scope="col" class="num">{text.openings}</th>
                    <th scope="col" class="num">{text.reopenings}</th>
                    <th scope="col" class="num">{text.flapping}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.fingerprint}>
                      <th scope="row" class="code">{r.fingerprint}</th>
                      <td>{r.targetId}</td>
                      <td class="num">{formatNumber(lang, r.openings)}</td>
                      <td class="num">{formatNumber(lang, r.reopenings)}</td>
                      <td class="num">{formatNumber(lang, r.flapping)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Loading>
      <Csv path={fpPath} />
      <h3 id="tg-h">{text.targets}</h3>
      <Loading load={tgs} retry={retryTgs}>
        {() => {
          const rows = (tgs as { data: TargetsAnswer }).data.rows;
          if (rows.length === 0) return <p>{text.noData}</p>;
          return (
            <div class="scroll">
              <table aria-labelledby="tg-h">
                <thead>
                  <tr>
                    <th scope="col">{text.dimension.target}</th>
                    <th scope="col" class="num">{text.count}</th>
                    <th scope="col" class="num">{text.downtime}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.targetId}>
                      <th scope="row">
                        {r.targetName} <span class="muted small">({r.targetId})</span>
                      </th>
                      <td class="num">{formatNumber(lang, r.incidents)}</td>
                      <td class="num">{formatDuration(lang, r.downtimeMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Loading>
      <Csv path={tgPath} />
    </section>
  );
}

/** Five shades, each with a text colour that keeps its contrast (WCAG AA) on it. */
function shade(count: number, max: number): string {
  if (count === 0 || max === 0) return 'heat-0';
  return `heat-${Math.min(4, Math.ceil((count / max) * 4))}`;
}

function Heatmap({ base }: { base: string }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const path = `/api/v1/reports/heatmap?${base}`;
  const [load, retry] = useReport<HeatmapAnswer>(path);
  return (
    <section aria-labelledby="heat-h">
      <h2 id="heat-h">{text.heatmapTitle}</h2>
      <Loading load={load} retry={retry}>
        {() => {
          const grid = (load as { data: HeatmapAnswer }).data.hours;
          const max = Math.max(0, ...grid.flat());
          return (
            <div class="scroll">
              <table class="heatmap">
                <caption>{text.heatmapCaption}</caption>
                <thead>
                  <tr>
                    <th scope="col">{text.weekday}</th>
                    {Array.from({ length: 24 }, (_, h) => (
                      <th key={h} scope="col" class="num" abbr={`${text.hour} ${h}`}>
                        {h}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {grid.map((row, d) => (
                    <tr key={d}>
                      <th scope="row">{text.weekdays[d]}</th>
                      {row.map((n, h) => (
                        <td key={h} class={`num ${shade(n, max)}`}>
                          {formatNumber(lang, n)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Loading>
      <Csv path={path} />
    </section>
  );
}

function Backlog({ base }: { base: string }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  const path = `/api/v1/reports/backlog?${base}`;
  const [load, retry] = useReport<BacklogAnswer>(path);
  // Days still to come are left out: nobody knows yet what will be open at their end.
  const rows = useMemo(() => {
    if (load.kind !== 'ok') return null;
    const now = Date.now();
    return load.data.rows.filter((r, i, all) => Date.parse(i === 0 ? load.data.current.start : all[i - 1]!.endsAt) <= now);
  }, [load]);
  const labels = useMemo(() => (rows ?? []).map((r) => formatDay(lang, r.day)), [rows, lang]);
  const ticks = useMemo(() => (rows ?? []).map((r) => String(Number(r.day.slice(8, 10)))), [rows]);
  const series = useMemo(() => [{ label: text.open, values: (rows ?? []).map((r) => r.open) }], [rows, text]);
  return (
    <section aria-labelledby="backlog-h">
      <h2 id="backlog-h">{text.backlogTitle}</h2>
      <Loading load={load} retry={retry}>
        {() => (
          <figure class="figure" aria-labelledby="backlog-h">
            <p>{text.backlogSummary(Math.max(0, ...series[0]!.values), series[0]!.values.at(-1) ?? 0)}</p>
            <Chart labels={labels} ticks={ticks} series={series} bars />
            <details>
              <summary>{text.backlogTable}</summary>
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{text.day}</th>
                      <th scope="col" class="num">{text.open}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(rows ?? []).map((r, i) => (
                      <tr key={r.day}>
                        <th scope="row">{labels[i]}</th>
                        <td class="num">{formatNumber(lang, r.open)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </figure>
        )}
      </Loading>
      <Csv path={path} />
    </section>
  );
}
