// One incident for staff: what it is, its SLA clocks (ticking every 30 s), who did what on the
// timeline, escalation, tickets, subscribers, related incidents, the signal that caused it and why
// the rules classified it so. The actions shown are the ones the person's role may do (the daemon
// checks again); each is a small form that says the daemon's own words when it refuses.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { RequireRole } from '../guard';
import { EVERYONE } from '../link';
import { useIncidentEvents } from '../live';
import { useText, useUi } from '../context';
import { formatDateTime, type Language } from '../i18n';
import { api, ApiError, hasRole, useSession, type Me, type UserRole } from '../session';
import { LoadFailed } from '../components/load-failed';

type Severity = 'minor' | 'medium' | 'severe' | 'major';
type Impact = 'single-user' | 'multiple-users' | 'site' | 'organisation';
type Status = 'open' | 'acknowledged' | 'resolved' | 'closed';
type Tier = 'L1' | 'L2' | 'L3';

const SEVERITIES: readonly Severity[] = ['minor', 'medium', 'severe', 'major'];
const IMPACTS: readonly Impact[] = ['single-user', 'multiple-users', 'site', 'organisation'];
const TIERS: readonly Tier[] = ['L1', 'L2', 'L3'];

/** Mirrors ApiIncident (src/domain/serialize.ts) as GET /api/v1/incidents/:number answers it. */
interface Incident {
  number: string;
  tenant: string;
  status: Status;
  title: string;
  description: string;
  runbook: string;
  category: string;
  severity: Severity;
  impact: Impact;
  priority: string;
  tier: Tier;
  fingerprint: string;
  ruleId: string;
  source: string;
  target: { id: string; kind: string; name: string; site: string; labels: Record<string, string> };
  check: { name: string; type: string };
  labels: Record<string, string>;
  occurrences: number;
  lastMessage: string;
  flapping: boolean;
  firstSeen: string;
  lastSeen: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  related: { targetId: string; fingerprint: string; since: string }[];
  escalation: { level: number; nextEscalationAt: string | null; mutedUntil: string | null; mutedBy: string | null };
  silencedBy: string[];
  sla: { ackDueAt: string | null; resolveDueAt: string | null; ackBreachedAt: string | null; resolveBreachedAt: string | null };
  tickets: Record<string, string>;
  subscribers: string[];
  timeline?: { at: string; actor: string; action: string; message: string }[];
  resolution?: { at: string; by: string; note: string } | null;
  ticketLinks?: { channel: string; reference: string; display: string; url: string | null }[];
  relatedIncidents?: { number: string; title: string; status: Status; severity: Severity; firstSeen: string; relation: 'same-target' | 'held-back' }[];
}

/** Mirrors ApiExplanation (src/api/incident-explanation.ts). */
interface Explanation {
  ruleId: string;
  notStored: string[];
  trace: { ruleId: string; matched: boolean; reason: string }[];
  shadowed: { ruleId: string; by: string }[];
  usedDefault: boolean;
  now: { ruleId: string; classification: { category: string; severity: Severity; impact: Impact; tier: Tier; priority: string }; title: string } | null;
  sameRule: boolean;
  differences: { field: string; incident: string; now: string }[];
}

const REFRESH_MS = 30_000;
/** Staff who may read incidents (incidents.read); the action roles mirror src/domain/permissions.ts. */
const HANDLE: UserRole[] = ['agent', 'engineer', 'admin'];
const DECIDE: UserRole[] = ['engineer', 'admin'];

const TEXT = {
  en: {
    loading: 'Loading the incident…',
    loadFailed: 'The incident could not be loaded. The service may be restarting; try again in a moment.',
    retry: 'Try again',
    notFoundTitle: 'Incident not found',
    notFoundText: 'There is no incident with this number, or it is not one you may see. Check the number.',
    notAllowed: 'Your role does not show incidents. Ask an administrator if you need to see them.',
    backHome: 'Back to the start page',
    status: { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved', closed: 'Closed' } as Record<Status, string>,
    impact: { 'single-user': 'One user', 'multiple-users': 'Several users', site: 'A site', organisation: 'The whole organisation' } as Record<Impact, string>,
    overview: 'Overview',
    category: 'Category',
    severity: 'Severity',
    impactLabel: 'Impact',
    priority: 'Priority',
    tier: 'Tier',
    tenant: 'Organisation',
    target: 'Affects',
    site: 'Site',
    firstSeen: 'Opened',
    lastSeen: 'Last seen',
    occurrences: 'Occurrences',
    flapping: 'Comes and goes (flapping)',
    silenced: 'Silenced: announcements and escalation are held back',
    muted: (until: string) => `Opened during maintenance: nothing is announced or escalated before ${until}`,
    description: 'Description',
    runbook: 'Runbook',
    sla: 'Service level',
    ackBy: 'Acknowledge by',
    resolveBy: 'Resolve by',
    noSla: 'No service level for this severity.',
    dueIn: (d: string) => `due in ${d}`,
    overdueBy: (d: string) => `overdue by ${d}`,
    met: (at: string) => `met (${at})`,
    breached: (at: string) => `breached (${at})`,
    missed: (at: string) => `missed, done ${at}`,
    notStarted: 'not started',
    escalation: 'Escalation',
    currentTier: 'Current tier',
    level: (n: number) => (n === 0 ? 'not escalated' : n === 1 ? 'escalated once' : `escalated ${n} times`),
    nextEscalation: 'Climbs to the next tier if not acknowledged by',
    escalationHistory: 'Escalation history',
    noEscalation: 'Not escalated so far.',
    timeline: 'Timeline',
    resolution: 'Resolution',
    resolvedByOn: (by: string, at: string) => `by ${by}, ${at}`,
    noNote: 'No resolution note.',
    tickets: 'Tickets',
    noTickets: 'No helpdesk ticket so far.',
    channel: 'Channel',
    ticket: 'Ticket',
    subscribers: 'Kept informed',
    noSubscribers: 'Nobody is subscribed.',
    related: 'Related incidents',
    noRelated: 'No related incidents.',
    relation: { 'same-target': 'same target', 'held-back': 'held back by this one' },
    heldBack: 'Held back because they depend on this target',
    since: 'since',
    signal: 'What caused it',
    source: 'Source',
    check: 'Check or alert',
    message: 'Last message',
    labels: 'Labels',
    targetLabels: 'Target labels',
    noLabels: 'none',
    why: 'Why it is classified so',
    classifiedBy: 'Classified by rule',
    explainLoading: 'Evaluating the rules…',
    explainFailed: 'The rules could not be evaluated now.',
    rulesNow: 'The rules as loaded now, run against the stored signal:',
    matched: 'match',
    noMatch: 'no match',
    shadowed: (rule: string, by: string) => `${rule} also matches but never applies: ${by} matches first.`,
    usedDefault: 'No rule matches now: the uncategorized default applies.',
    sameRule: 'The same rule classifies this signal now.',
    otherRule: (rule: string) => `The rules changed since: today rule ${rule} would classify this signal, not the rule that did.`,
    differences: 'Where the incident differs from what the rule gives now (a rule edited since, or a change by a person, see the timeline):',
    difference: (field: string, inc: string, now: string) => `${field}: incident ${inc}, rule now ${now}`,
    notStored: (parts: string) => `Not stored with the incident, so not seen by the conditions here: ${parts}.`,
    actions: 'Actions',
    noActions: 'Your role may look at this incident but not change it.',
    cancel: 'Cancel',
    working: 'Working…',
    acknowledge: 'Acknowledge',
    ackNote: 'Note (optional)',
    comment: 'Comment',
    commentText: 'Comment text',
    addComment: 'Add comment',
    resolve: 'Resolve',
    resolutionNote: 'Resolution note',
    reopen: 'Reopen',
    reason: 'Reason',
    escalate: 'Escalate',
    toTier: 'To tier',
    changeSeverity: 'Change severity or impact',
    save: 'Save',
    subscribe: 'Subscribe someone',
    address: 'Mail address',
    silence: 'Silence',
    duration: 'For',
    durations: { '30m': '30 minutes', '1h': '1 hour', '2h': '2 hours', '4h': '4 hours', '8h': '8 hours', '24h': '24 hours' } as Record<string, string>,
    silenceWhat: (target: string, check: string) => `Holds back announcements and escalation of incidents of ${target}, check ${check}.`,
    done: 'Done.',
    actions_: {
      opened: 'opened',
      reopened: 'reopened',
      acknowledged: 'acknowledged',
      resolved: 'resolved',
      closed: 'closed',
      commented: 'commented',
      'flapping-started': 'started flapping',
      'flapping-stopped': 'stopped flapping',
      'dependent-failing': 'a dependent target fails',
      reclassified: 'changed the classification',
      updated: 'updated',
      escalated: 'escalated',
      'sla-breached': 'service level breached',
      announced: 'announced',
      silenced: 'silenced',
      subscribed: 'subscribed',
      'subscribers-limit': 'subscriber limit reached',
    } as Record<string, string>,
  },
  de: {
    loading: 'Die Störung wird geladen …',
    loadFailed: 'Die Störung konnte nicht geladen werden. Der Dienst startet vielleicht gerade neu; bitte gleich noch einmal versuchen.',
    retry: 'Erneut versuchen',
    notFoundTitle: 'Störung nicht gefunden',
    notFoundText: 'Es gibt keine Störung mit dieser Nummer, oder Sie dürfen sie nicht sehen. Bitte die Nummer prüfen.',
    notAllowed: 'Ihre Rolle zeigt keine Störungen. Wenden Sie sich an eine Administratorin oder einen Administrator, wenn Sie sie sehen müssen.',
    backHome: 'Zurück zur Startseite',
    status: { open: 'Offen', acknowledged: 'Angenommen', resolved: 'Behoben', closed: 'Geschlossen' },
    impact: { 'single-user': 'Eine Person', 'multiple-users': 'Mehrere Personen', site: 'Ein Standort', organisation: 'Die ganze Organisation' },
    overview: 'Überblick',
    category: 'Kategorie',
    severity: 'Schweregrad',
    impactLabel: 'Auswirkung',
    priority: 'Priorität',
    tier: 'Supportstufe',
    tenant: 'Organisation',
    target: 'Betrifft',
    site: 'Standort',
    firstSeen: 'Eröffnet',
    lastSeen: 'Zuletzt gesehen',
    occurrences: 'Vorkommen',
    flapping: 'Tritt wechselnd auf (Flattern)',
    silenced: 'Stummgeschaltet: Meldungen und Eskalation werden zurückgehalten',
    muted: (until: string) => `Während einer Wartung eröffnet: vor ${until} wird nichts gemeldet oder eskaliert`,
    description: 'Beschreibung',
    runbook: 'Handlungsanleitung',
    sla: 'Servicelevel',
    ackBy: 'Annehmen bis',
    resolveBy: 'Beheben bis',
    noSla: 'Für diesen Schweregrad gibt es kein Servicelevel.',
    dueIn: (d: string) => `fällig in ${d}`,
    overdueBy: (d: string) => `überfällig seit ${d}`,
    met: (at: string) => `eingehalten (${at})`,
    breached: (at: string) => `verletzt (${at})`,
    missed: (at: string) => `verfehlt, erledigt ${at}`,
    notStarted: 'nicht gestartet',
    escalation: 'Eskalation',
    currentTier: 'Aktuelle Stufe',
    level: (n: number) => (n === 0 ? 'nicht eskaliert' : n === 1 ? 'einmal eskaliert' : `${n}-mal eskaliert`),
    nextEscalation: 'Steigt zur nächsten Stufe, wenn nicht angenommen bis',
    escalationHistory: 'Eskalationsverlauf',
    noEscalation: 'Bisher nicht eskaliert.',
    timeline: 'Verlauf',
    resolution: 'Lösung',
    resolvedByOn: (by: string, at: string) => `von ${by}, ${at}`,
    noNote: 'Keine Lösungsnotiz.',
    tickets: 'Tickets',
    noTickets: 'Bisher kein Helpdesk-Ticket.',
    channel: 'Kanal',
    ticket: 'Ticket',
    subscribers: 'Werden informiert',
    noSubscribers: 'Niemand ist eingetragen.',
    related: 'Zugehörige Störungen',
    noRelated: 'Keine zugehörigen Störungen.',
    relation: { 'same-target': 'gleiches Ziel', 'held-back': 'durch diese zurückgehalten' },
    heldBack: 'Zurückgehalten, weil sie von diesem Ziel abhängen',
    since: 'seit',
    signal: 'Auslöser',
    source: 'Quelle',
    check: 'Prüfung oder Alarm',
    message: 'Letzte Meldung',
    labels: 'Labels',
    targetLabels: 'Labels des Ziels',
    noLabels: 'keine',
    why: 'Warum diese Einstufung',
    classifiedBy: 'Eingestuft durch Regel',
    explainLoading: 'Die Regeln werden ausgewertet …',
    explainFailed: 'Die Regeln konnten gerade nicht ausgewertet werden.',
    rulesNow: 'Die jetzt geladenen Regeln, angewandt auf das gespeicherte Signal:',
    matched: 'trifft zu',
    noMatch: 'trifft nicht zu',
    shadowed: (rule: string, by: string) => `${rule} trifft auch zu, kommt aber nie zum Zug: ${by} trifft zuerst zu.`,
    usedDefault: 'Jetzt trifft keine Regel zu: es gilt die Standardeinstufung „nicht kategorisiert“.',
    sameRule: 'Dieselbe Regel stuft dieses Signal auch jetzt ein.',
    otherRule: (rule: string) => `Die Regeln haben sich seitdem geändert: heute würde Regel ${rule} dieses Signal einstufen, nicht die damalige.`,
    differences: 'Hier weicht die Störung von dem ab, was die Regel jetzt ergibt (Regel seitdem geändert oder Änderung durch eine Person, siehe Verlauf):',
    difference: (field: string, inc: string, now: string) => `${field}: Störung ${inc}, Regel jetzt ${now}`,
    notStored: (parts: string) => `Nicht mit der Störung gespeichert, daher hier von den Bedingungen nicht gesehen: ${parts}.`,
    actions: 'Aktionen',
    noActions: 'Ihre Rolle darf diese Störung ansehen, aber nicht ändern.',
    cancel: 'Abbrechen',
    working: 'Wird ausgeführt …',
    acknowledge: 'Annehmen',
    ackNote: 'Notiz (optional)',
    comment: 'Kommentieren',
    commentText: 'Kommentartext',
    addComment: 'Kommentar hinzufügen',
    resolve: 'Beheben',
    resolutionNote: 'Lösungsnotiz',
    reopen: 'Wieder öffnen',
    reason: 'Begründung',
    escalate: 'Eskalieren',
    toTier: 'An Stufe',
    changeSeverity: 'Schweregrad oder Auswirkung ändern',
    save: 'Speichern',
    subscribe: 'Jemanden informieren',
    address: 'E-Mail-Adresse',
    silence: 'Stummschalten',
    duration: 'Für',
    durations: { '30m': '30 Minuten', '1h': '1 Stunde', '2h': '2 Stunden', '4h': '4 Stunden', '8h': '8 Stunden', '24h': '24 Stunden' },
    silenceWhat: (target: string, check: string) => `Hält Meldungen und Eskalation der Störungen von ${target}, Prüfung ${check}, zurück.`,
    done: 'Erledigt.',
    actions_: {
      opened: 'eröffnet',
      reopened: 'wieder geöffnet',
      acknowledged: 'angenommen',
      resolved: 'behoben',
      closed: 'geschlossen',
      commented: 'kommentiert',
      'flapping-started': 'begann zu flattern',
      'flapping-stopped': 'flattert nicht mehr',
      'dependent-failing': 'ein abhängiges Ziel fällt aus',
      reclassified: 'Einstufung geändert',
      updated: 'aktualisiert',
      escalated: 'eskaliert',
      'sla-breached': 'Servicelevel verletzt',
      announced: 'gemeldet',
      silenced: 'stummgeschaltet',
      subscribed: 'eingetragen',
      'subscribers-limit': 'Höchstzahl der Eingetragenen erreicht',
    },
  },
};


type Load =
  | { kind: 'loading' }
  | { kind: 'missing' }
  | { kind: 'forbidden' }
  | { kind: 'failed' }
  | { kind: 'ok'; incident: Incident };

const path = (number: string) => `/api/v1/incidents/${encodeURIComponent(number)}`;

/** "2 h 10 min", "3 d 4 h", "under 1 min". */
export function formatSpan(lang: Language, ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  if (minutes < 1) return lang === 'de' ? 'unter 1 Min.' : 'under 1 min';
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const unit = lang === 'de' ? { d: 'T', h: 'Std.', m: 'Min.' } : { d: 'd', h: 'h', m: 'min' };
  const parts: string[] = [];
  if (d > 0) parts.push(`${d} ${unit.d}`);
  if (h > 0) parts.push(`${h} ${unit.h}`);
  // Minutes only matter under a day.
  if (m > 0 && d === 0) parts.push(`${m} ${unit.m}`);
  return parts.join(' ');
}

export function IncidentPage({ number }: { number: string }) {
  // Which incidents a person may see is the daemon's to say (403 below); any role may ask.
  return (
    <RequireRole roles={EVERYONE}>
      <IncidentDetail number={number} />
    </RequireRole>
  );
}

function IncidentDetail({ number }: { number: string }) {
  const text = useText(TEXT);
  const { t } = useUi();
  const session = useSession();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [explanation, setExplanation] = useState<Explanation | 'loading' | 'failed'>('loading');
  const [now, setNow] = useState(() => Date.now());
  const abortRef = useRef<AbortController | null>(null);

  const fetchIncident = useCallback(async () => {
    abortRef.current?.abort();
    const abort = new AbortController();
    abortRef.current = abort;
    try {
      const incident = await api<Incident>('GET', path(number), undefined, abort.signal);
      setLoad({ kind: 'ok', incident });
      setNow(Date.now());
      api<Explanation>('GET', `${path(number)}/explanation`, undefined, abort.signal).then(setExplanation, () => {
        if (!abort.signal.aborted) setExplanation('failed');
      });
    } catch (err) {
      if (abort.signal.aborted) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 400)) setLoad({ kind: 'missing' });
      else if (err instanceof ApiError && err.status === 403) setLoad({ kind: 'forbidden' });
      // A failed refresh keeps what is shown; only a first load shows the error.
      else setLoad((prev) => (prev.kind === 'ok' ? prev : { kind: 'failed' }));
    }
  }, [number]);

  // Another incident (a related one was opened): nothing of the previous one stays on screen.
  useEffect(() => {
    setLoad({ kind: 'loading' });
    setExplanation('loading');
  }, [number]);

  useEffect(() => {
    if (!session.known) return undefined;
    void fetchIncident();
    const refresh = setInterval(() => void fetchIncident(), REFRESH_MS);
    return () => {
      clearInterval(refresh);
      abortRef.current?.abort();
    };
  }, [fetchIncident, session.known, session.me, attempt]);

  // Someone else acted on this incident (or a signal changed it): show it without waiting.
  useIncidentEvents(
    (event) => {
      if (event.number === number) void fetchIncident();
    },
    hasRole(session.me, 'agent', 'engineer', 'manager', 'admin'),
  );

  // The countdowns tick between refreshes.
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), REFRESH_MS);
    return () => clearInterval(tick);
  }, []);

  const title = load.kind === 'ok' ? `${load.incident.number} ${load.incident.title}` : load.kind === 'missing' ? text.notFoundTitle : number;
  useEffect(() => {
    document.title = `${title} · ${t.appName}`;
  }, [t, title]);

  if (load.kind === 'loading') return <p aria-live="polite">{text.loading}</p>;
  if (load.kind === 'missing') {
    return (
      <section>
        <h1>{text.notFoundTitle}</h1>
        <p>{text.notFoundText}</p>
        <p>
          <a href="/">{text.backHome}</a>
        </p>
      </section>
    );
  }
  if (load.kind === 'forbidden') {
    return (
      <section>
        <h1>{number}</h1>
        <p>{text.notAllowed}</p>
      </section>
    );
  }
  if (load.kind === 'failed') {
    const retry = () => {
      setLoad({ kind: 'loading' });
      setAttempt((n) => n + 1);
    };
    return (
      <LoadFailed message={text.loadFailed} retryLabel={text.retry} onRetry={retry}>
      </LoadFailed>
    );
  }
  return <IncidentView incident={load.incident} explanation={explanation} now={now} me={session.me} changed={fetchIncident} />;
}

function IncidentView({
  incident: i,
  explanation,
  now,
  me,
  changed,
}: {
  incident: Incident;
  explanation: Explanation | 'loading' | 'failed';
  now: number;
  me: Me | null;
  changed: () => Promise<void>;
}) {
  const text = useText(TEXT);
  const { t, lang } = useUi();
  const at = (iso: string) => <time dateTime={iso}>{formatDateTime(lang, iso)}</time>;
  const escalations = (i.timeline ?? []).filter((e) => e.action === 'escalated');
  const tickets = i.ticketLinks ?? Object.entries(i.tickets).map(([channel, reference]) => ({ channel, reference, display: reference, url: null }));
  return (
    <article class="incident-detail">
      <h1>
        <span class="muted">{i.number}</span> {i.title}
      </h1>
      <p class="meta chips">
        <span class={`badge status-${i.status}`}>{text.status[i.status]}</span>
        <span class={`badge sev-${i.severity}`}>
          {text.severity}: {t.severity[i.severity]}
        </span>
        <span class="badge">
          {text.priority} {i.priority}
        </span>
        <span class="badge">
          {text.tier} {i.tier}
        </span>
      </p>
      {i.flapping && <p class="note">{text.flapping}</p>}
      {i.silencedBy.length > 0 && <p class="note">{text.silenced}</p>}
      {i.escalation.mutedUntil !== null && <p class="note">{text.muted(formatDateTime(lang, i.escalation.mutedUntil))}</p>}

      <Actions incident={i} me={me} changed={changed} />

      <section aria-labelledby="overview-h">
        <h2 id="overview-h">{text.overview}</h2>
        <dl class="facts">
          <Fact label={text.category}>{i.category}</Fact>
          <Fact label={text.severity}>{t.severity[i.severity]}</Fact>
          <Fact label={text.impactLabel}>{text.impact[i.impact]}</Fact>
          <Fact label={text.priority}>{i.priority}</Fact>
          <Fact label={text.tenant}>{i.tenant}</Fact>
          <Fact label={text.target}>
            {i.target.name} <span class="muted">({i.target.id})</span>
          </Fact>
          {i.target.site !== '' && <Fact label={text.site}>{i.target.site}</Fact>}
          <Fact label={text.firstSeen}>{at(i.firstSeen)}</Fact>
          <Fact label={text.lastSeen}>{at(i.lastSeen)}</Fact>
          <Fact label={text.occurrences}>{i.occurrences}</Fact>
        </dl>
        {i.description !== '' && (
          <>
            <h3>{text.description}</h3>
            <p class="pre">{i.description}</p>
          </>
        )}
        {i.runbook !== '' && (
          <>
            <h3>{text.runbook}</h3>
            <p class="pre">{i.runbook}</p>
          </>
        )}
      </section>

      <section aria-labelledby="sla-h">
        <h2 id="sla-h">{text.sla}</h2>
        {i.sla.ackDueAt === null && i.sla.resolveDueAt === null ? (
          <p>{text.noSla}</p>
        ) : (
          <dl class="facts">
            <Fact label={text.ackBy}>
              <SlaClock due={i.sla.ackDueAt} done={i.acknowledgedAt ?? (i.status === 'resolved' || i.status === 'closed' ? i.resolvedAt : null)} breachedAt={i.sla.ackBreachedAt} now={now} />
            </Fact>
            <Fact label={text.resolveBy}>
              <SlaClock due={i.sla.resolveDueAt} done={i.status === 'resolved' || i.status === 'closed' ? i.resolvedAt : null} breachedAt={i.sla.resolveBreachedAt} now={now} />
            </Fact>
          </dl>
        )}
      </section>

      <section aria-labelledby="esc-h">
        <h2 id="esc-h">{text.escalation}</h2>
        <dl class="facts">
          <Fact label={text.currentTier}>
            {i.tier} <span class="muted">({text.level(i.escalation.level)})</span>
          </Fact>
          {i.escalation.nextEscalationAt !== null && <Fact label={text.nextEscalation}>{at(i.escalation.nextEscalationAt)}</Fact>}
        </dl>
        <h3>{text.escalationHistory}</h3>
        {escalations.length === 0 ? (
          <p>{text.noEscalation}</p>
        ) : (
          <ul class="plain">
            {escalations.map((e, n) => (
              <li key={n}>
                {at(e.at)} · <strong>{e.actor}</strong>: {e.message}
              </li>
            ))}
          </ul>
        )}
      </section>

      {i.resolution && (
        <section aria-labelledby="resolution-h">
          <h2 id="resolution-h">{text.resolution}</h2>
          <p class="muted">{text.resolvedByOn(i.resolution.by, formatDateTime(lang, i.resolution.at))}</p>
          <p class="pre">{i.resolution.note === '' ? text.noNote : i.resolution.note}</p>
        </section>
      )}

      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">{text.timeline}</h2>
        <ol class="timeline">
          {(i.timeline ?? []).map((e, n) => (
            <li key={n} class={`entry entry-${e.action}`}>
              <p class="meta">
                {at(e.at)} · <strong class="actor">{e.actor}</strong> · <span>{text.actions_[e.action] ?? e.action}</span>
              </p>
              {e.message !== '' && <p class="pre">{e.message}</p>}
            </li>
          ))}
        </ol>
      </section>

      <section aria-labelledby="tickets-h">
        <h2 id="tickets-h">{text.tickets}</h2>
        {tickets.length === 0 ? (
          <p>{text.noTickets}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{text.channel}</th>
                <th scope="col">{text.ticket}</th>
              </tr>
            </thead>
            <tbody>
              {tickets.map((k) => (
                <tr key={k.channel}>
                  <td>{k.channel}</td>
                  <td class="wrap">
                    {k.url !== null && /^https?:\/\//i.test(k.url) ? (
                      <a href={k.url} rel="noopener noreferrer" target="_blank">
                        {k.display}
                      </a>
                    ) : (
                      k.display
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="subs-h">
        <h2 id="subs-h">{text.subscribers}</h2>
        {i.subscribers.length === 0 ? (
          <p>{text.noSubscribers}</p>
        ) : (
          <ul class="plain">
            {i.subscribers.map((s) => (
              <li key={s} class="wrap">
                {s}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="related-h">
        <h2 id="related-h">{text.related}</h2>
        {(i.relatedIncidents ?? []).length === 0 && i.related.length === 0 && <p>{text.noRelated}</p>}
        {(i.relatedIncidents ?? []).length > 0 && (
          <ul class="plain">
            {(i.relatedIncidents ?? []).map((r) => (
              <li key={r.number}>
                <a href={`/incidents/${encodeURIComponent(r.number)}`}>{r.number}</a> {r.title} · {text.status[r.status]} · {t.severity[r.severity]}{' '}
                <span class="muted">({text.relation[r.relation]})</span>
              </li>
            ))}
          </ul>
        )}
        {i.related.length > 0 && (
          <>
            <h3>{text.heldBack}</h3>
            <ul class="plain">
              {i.related.map((r) => (
                <li key={r.fingerprint}>
                  {r.targetId} <span class="muted">({text.since} {formatDateTime(lang, r.since)})</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      <section aria-labelledby="signal-h">
        <h2 id="signal-h">{text.signal}</h2>
        <dl class="facts">
          <Fact label={text.source}>{i.source}</Fact>
          <Fact label={text.check}>
            {i.check.name} <span class="muted">({i.check.type})</span>
          </Fact>
          <Fact label={text.message}>{i.lastMessage === '' ? '—' : i.lastMessage}</Fact>
          <Fact label={text.labels}>
            <Labels labels={i.labels} none={text.noLabels} />
          </Fact>
          <Fact label={text.targetLabels}>
            <Labels labels={i.target.labels} none={text.noLabels} />
          </Fact>
        </dl>
      </section>

      <Why incident={i} explanation={explanation} />
    </article>
  );
}

function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Labels({ labels, none }: { labels: Record<string, string>; none: string }) {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span class="muted">{none}</span>;
  return (
    <ul class="labels">
      {entries.map(([k, v]) => (
        <li key={k}>
          <code>
            {k}={v}
          </code>
        </li>
      ))}
    </ul>
  );
}

/** One SLA clock: time left or overdue while running; met or missed once done. */
function SlaClock({ due, done, breachedAt, now }: { due: string | null; done: string | null; breachedAt: string | null; now: number }) {
  const text = useText(TEXT);
  const { lang } = useUi();
  if (due === null) return <span class="muted">{text.notStarted}</span>;
  const dueMs = new Date(due).getTime();
  const absolute = <time dateTime={due}>{formatDateTime(lang, due)}</time>;
  let state: string;
  let cls: string;
  if (done !== null) {
    const ok = new Date(done).getTime() <= dueMs;
    state = ok ? text.met(formatDateTime(lang, done)) : text.missed(formatDateTime(lang, done));
    cls = ok ? 'ok' : 'bad';
  } else if (breachedAt !== null || now > dueMs) {
    state = text.overdueBy(formatSpan(lang, now - dueMs));
    cls = 'bad';
  } else {
    state = text.dueIn(formatSpan(lang, dueMs - now));
    cls = 'ok';
  }
  return (
    <span class="sla">
      <span class={`sla-state sla-${cls}`}>{state}</span> <span class="muted">({absolute})</span>
    </span>
  );
}

function Why({ incident, explanation }: { incident: Incident; explanation: Explanation | 'loading' | 'failed' }) {
  const text = useText(TEXT);
  const { t } = useUi();
  return (
    <section aria-labelledby="why-h">
      <h2 id="why-h">{text.why}</h2>
      <p>
        {text.classifiedBy} <code>{incident.ruleId}</code>
      </p>
      {explanation === 'loading' && <p aria-live="polite">{text.explainLoading}</p>}
      {explanation === 'failed' && <p>{text.explainFailed}</p>}
      {typeof explanation === 'object' && (
        <>
          <p class={explanation.sameRule ? '' : 'warn-text'}>
            {explanation.sameRule ? text.sameRule : text.otherRule(explanation.now?.ruleId ?? '—')}
          </p>
          <p>{text.rulesNow}</p>
          <ol class="trace">
            {explanation.trace.map((r) => (
              <li key={r.ruleId}>
                <code>{r.ruleId}</code> <strong>{r.matched ? text.matched : text.noMatch}</strong> <span class="muted">{r.reason}</span>
              </li>
            ))}
          </ol>
          {explanation.usedDefault && <p>{text.usedDefault}</p>}
          {explanation.shadowed.map((s) => (
            <p key={s.ruleId}>{text.shadowed(s.ruleId, s.by)}</p>
          ))}
          {explanation.now && (
            <p>
              <code>{explanation.now.ruleId}</code>: {explanation.now.classification.category}, {t.severity[explanation.now.classification.severity]},{' '}
              {text.impact[explanation.now.classification.impact]}, {explanation.now.classification.priority}, {explanation.now.classification.tier}
            </p>
          )}
          {explanation.differences.length > 0 && (
            <>
              <p>{text.differences}</p>
              <ul class="plain">
                {explanation.differences.map((d) => (
                  <li key={d.field}>{text.difference(fieldName(text, d.field), valueWord(text, t, d.field, d.incident), valueWord(text, t, d.field, d.now))}</li>
                ))}
              </ul>
            </>
          )}
          <p class="muted small">{text.notStored(explanation.notStored.join(', '))}</p>
        </>
      )}
    </section>
  );
}

type PageText = (typeof TEXT)['en'];

/** A classification field in the page's language. */
function fieldName(text: PageText, field: string): string {
  const names: Record<string, string> = { category: text.category, severity: text.severity, impact: text.impactLabel, priority: text.priority, tier: text.tier };
  return names[field] ?? field;
}

/** A classification value in words where the page has them (severity, impact); else as it is. */
function valueWord(text: PageText, t: ReturnType<typeof useUi>['t'], field: string, value: string): string {
  if (field === 'severity' && (SEVERITIES as readonly string[]).includes(value)) return t.severity[value as Severity];
  if (field === 'impact' && (IMPACTS as readonly string[]).includes(value)) return text.impact[value as Impact];
  return value;
}

// ---- actions ----

function Actions({ incident: i, me, changed }: { incident: Incident; me: Me | null; changed: () => Promise<void> }) {
  const text = useText(TEXT);
  const active = i.status === 'open' || i.status === 'acknowledged';
  const handle = hasRole(me, ...HANDLE);
  const decide = hasRole(me, ...DECIDE);
  const [open, setOpen] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const post = (suffix: string, body: unknown) => api<unknown>('POST', `${path(i.number)}/${suffix}`, body);
  const panel = (id: string) => ({
    id,
    open: open === id,
    toggle: () => {
      setDone(null);
      setOpen(open === id ? null : id);
    },
    finished: async () => {
      setOpen(null);
      setDone(id);
      await changed();
    },
  });
  const higher = TIERS.filter((tier) => TIERS.indexOf(tier) > TIERS.indexOf(i.tier));
  const buttons: ComponentChildren[] = [];
  if (handle && i.status === 'open') buttons.push(<AckForm key="ack" {...panel('ack')} run={(message) => post('ack', message === '' ? {} : { message })} />);
  if (handle) buttons.push(<CommentForm key="comment" {...panel('comment')} run={(text_) => post('comments', { text: text_ })} />);
  if (handle && active) buttons.push(<ResolveForm key="resolve" {...panel('resolve')} run={(message) => post('resolve', { message })} />);
  if (decide && active && higher.length > 0)
    buttons.push(<EscalateForm key="escalate" {...panel('escalate')} tiers={higher} run={(tier, reason) => post('escalate', { tier, reason })} />);
  if (decide && active) buttons.push(<SeverityForm key="severity" {...panel('severity')} incident={i} run={(body) => post('severity', body)} />);
  if (decide && i.status === 'resolved') buttons.push(<ReopenForm key="reopen" {...panel('reopen')} run={(reason) => post('reopen', { reason })} />);
  if (handle) buttons.push(<SubscribeForm key="subscribe" {...panel('subscribe')} run={(address) => post('subscribers', { address })} />);
  if (decide && active) {
    buttons.push(
      <SilenceForm
        key="silence"
        {...panel('silence')}
        incident={i}
        run={(duration, comment) =>
          api<unknown>('POST', '/api/v1/silences', {
            matchers: [
              { name: 'target', op: '=', value: i.target.id },
              { name: 'check', op: '=', value: i.check.name },
            ],
            duration,
            comment,
            tenant: i.tenant,
          })
        }
      />,
    );
  }
  return (
    <section aria-labelledby="actions-h" class="actions">
      <h2 id="actions-h">{text.actions}</h2>
      {buttons.length === 0 ? <p>{text.noActions}</p> : <div class="action-list">{buttons}</div>}
      <p aria-live="polite" class="small">
        {done !== null ? text.done : ''}
      </p>
    </section>
  );
}

interface PanelProps {
  id: string;
  open: boolean;
  toggle: () => void;
  finished: () => Promise<void>;
}

/**
 * A button that opens a small form below it. Escape or Cancel closes it and gives focus back to the
 * button; the daemon's refusal is shown next to the form, in its own words.
 */
function Panel({ id, open, toggle, finished, label, submit, run, children }: PanelProps & { label: string; submit: string; run: () => Promise<unknown>; children: ComponentChildren }) {
  const text = useText(TEXT);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (open) {
      setError(null);
      form.current?.querySelector<HTMLElement>('input, select, textarea, button[type=submit]')?.focus();
    }
  }, [open]);
  const close = () => {
    toggle();
    button.current?.focus();
  };
  const errorId = `${id}-error`;
  return (
    <div class={`action ${open ? 'action-open' : ''}`}>
      <button type="button" ref={button} aria-expanded={open} aria-controls={`${id}-form`} onClick={toggle}>
        {label}
      </button>
      {open && (
        <form
          id={`${id}-form`}
          ref={form}
          class="action-form"
          aria-label={label}
          aria-describedby={error === null ? undefined : errorId}
          onKeyDown={(e) => {
            if (e.key === 'Escape') close();
          }}
          onSubmit={(e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            run().then(
              async () => {
                setBusy(false);
                await finished();
                button.current?.focus();
              },
              (err: unknown) => {
                setBusy(false);
                setError(err instanceof ApiError ? detailed(err) : err instanceof Error ? err.message : String(err));
              },
            );
          }}
        >
          {children}
          <div class="form-buttons">
            <button type="submit" disabled={busy}>
              {busy ? text.working : submit}
            </button>
            <button type="button" class="secondary" onClick={close}>
              {text.cancel}
            </button>
          </div>
          {error !== null && (
            <p id={errorId} role="alert" class="error">
              {error}
            </p>
          )}
        </form>
      )}
    </div>
  );
}

/** The daemon's message; with the fields it names when the message alone is the generic one. */
function detailed(err: ApiError): string {
  if (err.details.length === 0) return err.message;
  const fields = err.details.map((d) => `${d.field}: ${d.message}`).join('; ');
  return err.message.includes(fields) ? err.message : `${err.message} (${fields})`;
}

function TextArea({ id, label, value, set, required }: { id: string; label: string; value: string; set: (v: string) => void; required?: boolean }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea id={id} rows={3} value={value} required={required ?? false} onInput={(e) => set(e.currentTarget.value)} />
    </div>
  );
}

function AckForm(p: PanelProps & { run: (message: string) => Promise<unknown> }) {
  const text = useText(TEXT);
  const [message, setMessage] = useState('');
  return (
    <Panel {...p} label={text.acknowledge} submit={text.acknowledge} run={() => p.run(message.trim())}>
      <TextArea id="ack-message" label={text.ackNote} value={message} set={setMessage} />
    </Panel>
  );
}

function CommentForm(p: PanelProps & { run: (text: string) => Promise<unknown> }) {
  const text = useText(TEXT);
  const [value, setValue] = useState('');
  return (
    <Panel {...p} label={text.comment} submit={text.addComment} run={() => p.run(value).then(() => setValue(''))}>
      <TextArea id="comment-text" label={text.commentText} value={value} set={setValue} required />
    </Panel>
  );
}

function ResolveForm(p: PanelProps & { run: (message: string) => Promise<unknown> }) {
  const text = useText(TEXT);
  const [note, setNote] = useState('');
  return (
    <Panel {...p} label={text.resolve} submit={text.resolve} run={() => p.run(note.trim())}>
      <TextArea id="resolve-note" label={text.resolutionNote} value={note} set={setNote} required />
    </Panel>
  );
}

function ReopenForm(p: PanelProps & { run: (reason: string) => Promise<unknown> }) {
  const text = useText(TEXT);
  const [reason, setReason] = useState('');
  return (
    <Panel {...p} label={text.reopen} submit={text.reopen} run={() => p.run(reason)}>
      <TextArea id="reopen-reason" label={text.reason} value={reason} set={setReason} required />
    </Panel>
  );
}

function EscalateForm(p: PanelProps & { tiers: Tier[]; run: (tier: Tier, reason: string) => Promise<unknown> }) {
  const text = useText(TEXT);
  const [tier, setTier] = useState<Tier>(p.tiers[0] ?? 'L3');
  const [reason, setReason] = useState('');
  return (
    <Panel {...p} label={text.escalate} submit={text.escalate} run={() => p.run(tier, reason)}>
      <div class="field">
        <label for="escalate-tier">{text.toTier}</label>
        <select id="escalate-tier" value={tier} onChange={(e) => setTier(e.currentTarget.value as Tier)}>
          {p.tiers.map((x) => (
            <option key={x} value={x}>
              {x}
            </option>
          ))}
        </select>
      </div>
      <TextArea id="escalate-reason" label={text.reason} value={reason} set={setReason} required />
    </Panel>
  );
}

function SeverityForm(p: PanelProps & { incident: Incident; run: (body: { severity?: Severity; impact?: Impact; reason: string }) => Promise<unknown> }) {
  const text = useText(TEXT);
  const { t } = useUi();
  const [severity, setSeverity] = useState<Severity>(p.incident.severity);
  const [impact, setImpact] = useState<Impact>(p.incident.impact);
  const [reason, setReason] = useState('');
  // Only what changes; nothing changed is sent as is, and the daemon says so.
  const body = () => {
    const sev = severity !== p.incident.severity;
    const imp = impact !== p.incident.impact;
    if (!sev && !imp) return { severity, impact, reason };
    return { ...(sev ? { severity } : {}), ...(imp ? { impact } : {}), reason };
  };
  return (
    <Panel {...p} label={text.changeSeverity} submit={text.save} run={() => p.run(body())}>
      <div class="field">
        <label for="severity-select">{text.severity}</label>
        <select id="severity-select" value={severity} onChange={(e) => setSeverity(e.currentTarget.value as Severity)}>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {t.severity[s]}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="impact-select">{text.impactLabel}</label>
        <select id="impact-select" value={impact} onChange={(e) => setImpact(e.currentTarget.value as Impact)}>
          {IMPACTS.map((s) => (
            <option key={s} value={s}>
              {text.impact[s]}
            </option>
          ))}
        </select>
      </div>
      <TextArea id="severity-reason" label={text.reason} value={reason} set={setReason} required />
    </Panel>
  );
}

function SubscribeForm(p: PanelProps & { run: (address: string) => Promise<unknown> }) {
  const text = useText(TEXT);
  const [address, setAddress] = useState('');
  return (
    <Panel {...p} label={text.subscribe} submit={text.subscribe} run={() => p.run(address.trim()).then(() => setAddress(''))}>
      <div class="field">
        <label for="subscribe-address">{text.address}</label>
        <input id="subscribe-address" type="email" autoComplete="off" required value={address} onInput={(e) => setAddress(e.currentTarget.value)} />
      </div>
    </Panel>
  );
}

function SilenceForm(p: PanelProps & { incident: Incident; run: (duration: string, comment: string) => Promise<unknown> }) {
  const text = useText(TEXT);
  const [duration, setDuration] = useState('2h');
  const [comment, setComment] = useState('');
  return (
    <Panel {...p} label={text.silence} submit={text.silence} run={() => p.run(duration, comment)}>
      <p class="small">{text.silenceWhat(p.incident.target.name, p.incident.check.name)}</p>
      <div class="field">
        <label for="silence-duration">{text.duration}</label>
        <select id="silence-duration" value={duration} onChange={(e) => setDuration(e.currentTarget.value)}>
          {Object.entries(text.durations).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <TextArea id="silence-comment" label={text.reason} value={comment} set={setComment} required />
    </Panel>
  );
}

