// The incident list for staff: filters kept in the address (shareable, the back button works),
// an order, pages by cursor (a stack of the cursors that led here, for "previous"), and live
// updates: a change of any incident the person may see refetches the page shown (debounced), and a
// polite note says how many new incidents came in.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Severity } from '../api';
import { useText, useUi } from '../context';
import { RequireRole } from '../guard';
import { formatDateTime } from '../i18n';
import { useIncidentEvents } from '../live';
import { navigate } from '../router';
import { api, ApiError, useSession } from '../session';
import { Link, STAFF } from '../link';

const PAGE_SIZE = 25;
const REFETCH_DEBOUNCE_MS = 300;

const STATUSES = ['open', 'acknowledged', 'resolved', 'closed'] as const;
type Status = (typeof STATUSES)[number];
const SEVERITIES = ['minor', 'medium', 'severe', 'major'] as const;
const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
const TIERS = ['L1', 'L2', 'L3'] as const;
const SORTS = ['-opened', 'opened', '-lastSeen', '-severity', 'severity', '-priority', 'priority', '-number', 'number'] as const;
type Sort = (typeof SORTS)[number];

/** The filters and order, as the address's query says them. */
const FILTER_KEYS = ['status', 'severity', 'priority', 'tier', 'category', 'site', 'target', 'tenant', 'q', 'sort'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
type Filters = Partial<Record<FilterKey, string>>;

interface ListedIncident {
  number: string;
  tenant: string;
  status: Status;
  title: string;
  category: string;
  severity: Severity;
  priority: string;
  tier: string;
  target: { id: string; name: string; site: string };
  firstSeen: string;
  lastSeen: string;
}

interface IncidentPage {
  items: ListedIncident[];
  next: string | null;
}

const TEXT = {
  en: {
    title: 'Incidents',
    filters: 'Filters',
    status: 'Status',
    severity: 'Severity',
    priority: 'Priority',
    tier: 'Tier',
    category: 'Category',
    site: 'Site',
    target: 'Target',
    tenant: 'Tenant',
    search: 'Search in title and description',
    sort: 'Order',
    any: 'Any',
    apply: 'Apply filters',
    clear: 'Clear filters',
    statuses: { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved', closed: 'Closed' } as Record<Status, string>,
    sorts: {
      '-opened': 'Newest first',
      opened: 'Oldest first',
      '-lastSeen': 'Last seen first',
      '-severity': 'Most severe first',
      severity: 'Least severe first',
      '-priority': 'Lowest priority first',
      priority: 'Highest priority first',
      '-number': 'Highest number first',
      number: 'Lowest number first',
    } as Record<Sort, string>,
    number: 'Number',
    incident: 'Incident',
    opened: 'Opened',
    none: 'No incidents match these filters.',
    previous: 'Previous page',
    next: 'Next page',
    page: (n: number) => `Page ${n}`,
    loading: 'Loading incidents…',
    failed: 'The incidents could not be loaded. The service may be restarting; try again in a moment.',
    retry: 'Try again',
    forbidden: 'Your role may not see the incident list.',
    live: { connecting: 'Connecting to live updates…', live: 'Live: changes appear by themselves', offline: 'Live updates are interrupted; reconnecting' },
    newIncidents: (n: number) => (n === 1 ? '1 new incident' : `${n} new incidents`),
    updated: 'The list was updated',
    tableLabel: 'Incidents, scrollable',
  },
  de: {
    title: 'Störungen',
    filters: 'Filter',
    status: 'Status',
    severity: 'Schweregrad',
    priority: 'Priorität',
    tier: 'Supportstufe',
    category: 'Kategorie',
    site: 'Standort',
    target: 'Ziel',
    tenant: 'Mandant',
    search: 'In Titel und Beschreibung suchen',
    sort: 'Reihenfolge',
    any: 'Alle',
    apply: 'Filter anwenden',
    clear: 'Filter zurücksetzen',
    statuses: { open: 'Offen', acknowledged: 'Angenommen', resolved: 'Behoben', closed: 'Geschlossen' } as Record<Status, string>,
    sorts: {
      '-opened': 'Neueste zuerst',
      opened: 'Älteste zuerst',
      '-lastSeen': 'Zuletzt beobachtet zuerst',
      '-severity': 'Schwerste zuerst',
      severity: 'Leichteste zuerst',
      '-priority': 'Niedrigste Priorität zuerst',
      priority: 'Höchste Priorität zuerst',
      '-number': 'Höchste Nummer zuerst',
      number: 'Niedrigste Nummer zuerst',
    } as Record<Sort, string>,
    number: 'Nummer',
    incident: 'Störung',
    opened: 'Eröffnet',
    none: 'Keine Störungen passen zu diesen Filtern.',
    previous: 'Vorherige Seite',
    next: 'Nächste Seite',
    page: (n: number) => `Seite ${n}`,
    loading: 'Störungen werden geladen …',
    failed: 'Die Störungen konnten nicht geladen werden. Der Dienst startet vielleicht gerade neu; bitte gleich noch einmal versuchen.',
    retry: 'Erneut versuchen',
    forbidden: 'Ihre Rolle darf die Störungsliste nicht sehen.',
    live: { connecting: 'Verbindung für Live-Aktualisierung wird aufgebaut …', live: 'Live: Änderungen erscheinen von selbst', offline: 'Live-Aktualisierung unterbrochen; neue Verbindung wird aufgebaut' },
    newIncidents: (n: number) => (n === 1 ? '1 neue Störung' : `${n} neue Störungen`),
    updated: 'Die Liste wurde aktualisiert',
    tableLabel: 'Störungen, scrollbar',
  },
};

function readFilters(): Filters {
  const params = new URLSearchParams(location.search);
  const out: Filters = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v !== null && v !== '') out[k] = v;
  }
  return out;
}

function queryOf(filters: Filters): string {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = filters[k];
    if (v !== undefined && v !== '') params.set(k, v);
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

/** The filters as the API takes them (the same names). */
function apiQuery(filters: Filters, cursor: string | null): string {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = filters[k];
    if (v !== undefined && v !== '') params.set(k, v);
  }
  params.set('limit', String(PAGE_SIZE));
  if (cursor !== null) params.set('cursor', cursor);
  return params.toString();
}

/** Follows the address's query (the router re-renders only on a new path). */
function useFilters(): Filters {
  const [filters, setFilters] = useState<Filters>(readFilters);
  useEffect(() => {
    const changed = () => setFilters(readFilters());
    addEventListener('popstate', changed);
    return () => removeEventListener('popstate', changed);
  }, []);
  return filters;
}

type Load = { kind: 'loading' } | { kind: 'failed' } | { kind: 'forbidden' } | { kind: 'ok'; page: IncidentPage };

export function IncidentsPage() {
  return (
    <RequireRole roles={STAFF}>
      <IncidentList />
    </RequireRole>
  );
}

function IncidentList() {
  const { me } = useSession();
  const text = useText(TEXT);
  const { t, lang } = useUi();
  const filters = useFilters();
  const filterKey = queryOf(filters);
  // The cursors of the pages before this one; the last is this page's (null: the first page). They
  // belong to one set of filters: another set (or order) starts again at the first page.
  const [paging, setPaging] = useState<{ key: string; cursors: (string | null)[] }>({ key: filterKey, cursors: [null] });
  const cursors = paging.key === filterKey ? paging.cursors : [null];
  const setCursors = (next: (c: (string | null)[]) => (string | null)[]) => setPaging({ key: filterKey, cursors: next(cursors) });
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [note, setNote] = useState('');
  const shown = useRef<Set<string> | null>(null);
  const announce = useRef(false);

  useEffect(() => {
    document.title = `${text.title} · ${t.appName}`;
  }, [text, t]);

  const cursor = cursors[cursors.length - 1] ?? null;
  useEffect(() => {
    const abort = new AbortController();
    api<IncidentPage>('GET', `/api/v1/incidents?${apiQuery(filters, cursor)}`, undefined, abort.signal).then(
      (page) => {
        const items = page.items;
        const numbers = new Set(items.map((i) => i.number));
        if (announce.current && shown.current !== null) {
          const fresh = [...numbers].filter((n) => !shown.current!.has(n)).length;
          setNote(fresh > 0 ? text.newIncidents(fresh) : text.updated);
        }
        announce.current = false;
        shown.current = numbers;
        setLoad({ kind: 'ok', page: { items, next: page.next } });
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        // A 401 (the session ended) is the guard's: it sends the person to sign in.
        if (err instanceof ApiError && err.status === 403) setLoad({ kind: 'forbidden' });
        // A refetch that fails keeps what is shown.
        else setLoad((prev) => (prev.kind === 'ok' ? prev : { kind: 'failed' }));
      },
    );
    return () => abort.abort();
    // filterKey stands for filters; text only changes the note's words.
  }, [filterKey, cursor, attempt]);

  // A change anywhere may concern this page (a new incident, a status that no longer matches):
  // fetch it again, once per burst of changes.
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const changed = useCallback(() => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      announce.current = true;
      setAttempt((n) => n + 1);
    }, REFETCH_DEBOUNCE_MS);
  }, []);
  useEffect(() => () => {
    if (timer.current !== null) clearTimeout(timer.current);
  }, []);
  const live = useIncidentEvents(changed);

  if (me === null) return <p aria-live="polite">{t.loading}</p>;

  const apply = (next: Filters) => navigate(`/incidents${queryOf(next)}`);
  const set = (key: FilterKey, value: string) => {
    const next: Filters = { ...filters };
    if (value === '') delete next[key];
    else next[key] = value;
    apply(next);
  };
  const multiTenant = me.tenants === '*' || me.tenants.length > 1;

  return (
    <section class="incidents-page">
      <h1>{text.title}</h1>
      <p class="small muted live-state">
        <span class={`dot live-${live}`} aria-hidden="true" /> {text.live[live]}
      </p>
      <p class="visually-hidden" role="status" aria-live="polite">
        {note}
      </p>
      {note !== '' && (
        <p class="note" aria-hidden="true">
          {note}
        </p>
      )}
      <FilterForm filters={filters} set={set} apply={apply} multiTenant={multiTenant} tenants={me.tenants === '*' ? null : me.tenants} />

      {load.kind === 'loading' && <p aria-live="polite">{text.loading}</p>}
      {load.kind === 'forbidden' && <p role="alert">{text.forbidden}</p>}
      {load.kind === 'failed' && (
        <div>
          <p role="alert">{text.failed}</p>
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            {text.retry}
          </button>
        </div>
      )}
      {load.kind === 'ok' && (
        <>
          {load.page.items.length === 0 ? (
            <p>{text.none}</p>
          ) : (
            <div class="table-wrap" role="region" aria-label={text.tableLabel} tabIndex={0}>
              <table class="incident-table">
                <thead>
                  <tr>
                    <th scope="col">{text.number}</th>
                    <th scope="col">{text.incident}</th>
                    <th scope="col">{text.status}</th>
                    <th scope="col">{text.severity}</th>
                    <th scope="col">{text.priority}</th>
                    <th scope="col">{text.tier}</th>
                    <th scope="col">{text.target}</th>
                    {multiTenant && <th scope="col">{text.tenant}</th>}
                    <th scope="col">{text.opened}</th>
                  </tr>
                </thead>
                <tbody>
                  {load.page.items.map((i) => (
                    <tr key={i.number} class={`status-${i.status}`}>
                      <td>
                        <Link href={`/incidents/${encodeURIComponent(i.number)}`}>{i.number}</Link>
                      </td>
                      <td class="title-cell">{i.title}</td>
                      <td>{text.statuses[i.status]}</td>
                      <td>
                        <span class={`badge sev-${i.severity}`}>{t.severity[i.severity]}</span>
                      </td>
                      <td>{i.priority}</td>
                      <td>{i.tier}</td>
                      <td>
                        {i.target.name}
                        {i.target.site !== '' && <span class="muted small"> · {i.target.site}</span>}
                      </td>
                      {multiTenant && <td>{i.tenant}</td>}
                      <td>
                        <time dateTime={i.firstSeen}>{formatDateTime(lang, i.firstSeen)}</time>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label={text.page(cursors.length)}>
            <button type="button" class="secondary" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              {text.previous}
            </button>
            <span>{text.page(cursors.length)}</span>
            <button
              type="button"
              class="secondary"
              disabled={load.page.next === null}
              onClick={() => {
                const next = load.page.next;
                if (next !== null) setCursors((c) => [...c, next]);
              }}
            >
              {text.next}
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

function FilterForm(props: {
  filters: Filters;
  set: (key: FilterKey, value: string) => void;
  apply: (filters: Filters) => void;
  multiTenant: boolean;
  tenants: readonly string[] | null;
}) {
  const text = useText(TEXT);
  const { t } = useUi();
  const { filters, set, apply } = props;
  // Text fields apply on submit (Enter or the button); choices apply at once.
  const [draft, setDraft] = useState<Filters>(filters);
  useEffect(() => setDraft(filters), [queryOf(filters)]);
  const textField = (key: FilterKey, label: string) => (
    <div class="field">
      <label for={`f-${key}`}>{label}</label>
      <input id={`f-${key}`} name={key} value={draft[key] ?? ''} onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })} />
    </div>
  );
  const choice = (key: FilterKey, label: string, options: readonly string[], word: (o: string) => string) => (
    <div class="field">
      <label for={`f-${key}`}>{label}</label>
      <select id={`f-${key}`} name={key} value={filters[key] ?? ''} onChange={(e) => set(key, e.currentTarget.value)}>
        <option value="">{text.any}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {word(o)}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <form
      class="filters"
      aria-label={text.filters}
      onSubmit={(e) => {
        e.preventDefault();
        const next: Filters = { ...filters };
        for (const k of ['q', 'category', 'site', 'target', 'tenant'] as const) {
          const v = draft[k]?.trim();
          if (v === undefined || v === '') delete next[k];
          else next[k] = v;
        }
        apply(next);
      }}
    >
      {textField('q', text.search)}
      {choice('status', text.status, STATUSES, (s) => text.statuses[s as Status])}
      {choice('severity', text.severity, SEVERITIES, (s) => t.severity[s as Severity])}
      {choice('priority', text.priority, PRIORITIES, (p) => p)}
      {choice('tier', text.tier, TIERS, (p) => p)}
      {textField('category', text.category)}
      {textField('site', text.site)}
      {textField('target', text.target)}
      {props.multiTenant && (props.tenants === null ? textField('tenant', text.tenant) : choice('tenant', text.tenant, props.tenants, (x) => x))}
      <div class="field">
        <label for="f-sort">{text.sort}</label>
        <select id="f-sort" name="sort" value={filters.sort ?? '-opened'} onChange={(e) => set('sort', e.currentTarget.value === '-opened' ? '' : e.currentTarget.value)}>
          {SORTS.map((s) => (
            <option key={s} value={s}>
              {text.sorts[s]}
            </option>
          ))}
        </select>
      </div>
      <div class="field actions">
        <button type="submit">{text.apply}</button>
        <button type="button" class="secondary" onClick={() => apply({})}>
          {text.clear}
        </button>
      </div>
    </form>
  );
}
