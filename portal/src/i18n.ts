// German and English. The catalogs are plain objects: `de` must have every key `en` has (the type
// says so), so a missing translation is a compile error. The language is the one chosen on the page
// (kept in localStorage), else the browser's first of de/en, else English. Times are shown in the
// viewer's own time zone: Intl formats in it unless told otherwise.
export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

const en = {
  appName: 'incidentd',
  skipToContent: 'Skip to content',
  language: 'Language',
  languageNames: { en: 'English', de: 'Deutsch' },
  loading: 'Loading…',
  retry: 'Try again',
  loadFailed: 'The status could not be loaded. The service may be restarting; try again in a moment.',
  homeTitle: 'Incident portal',
  homeIntro: 'Status pages show the services of an organisation, ongoing incidents and the last 90 days.',
  statusPageOf: 'Status page of',
  tenantId: 'Organisation id',
  open: 'Open',
  notFoundTitle: 'Page not found',
  notFoundText: 'There is no such page. Check the address.',
  statusNotFound: 'There is no status page at this address, or it is only shown to signed-in people of the organisation.',
  backHome: 'Back to the start page',
  overall: {
    operational: 'All services are operating normally',
    degraded: 'Some services are disrupted',
    outage: 'There is an outage',
  },
  updated: 'Updated',
  ongoingIncidents: 'Ongoing incidents',
  noIncidents: 'No ongoing incidents.',
  since: 'since',
  affects: 'Affects',
  at: 'at',
  stage: { investigating: 'Investigating', identified: 'Identified, being worked on' },
  severity: { minor: 'Minor', medium: 'Medium', severe: 'Severe', major: 'Major' },
  services: 'Services',
  noServices: 'No services are watched for this organisation.',
  site: 'Site',
  service: { up: 'Operational', disrupted: 'Disrupted', down: 'Down', unknown: 'No data yet' },
  history: 'Last 90 days',
  historySummary: (days: number) =>
    days === 0 ? 'No incidents in the last 90 days.' : days === 1 ? 'Incidents on 1 day in the last 90 days.' : `Incidents on ${days} days in the last 90 days.`,
  historyDay: (date: string, worst: string | null) => (worst === null ? `${date}: no incidents` : `${date}: worst incident ${worst}`),
  historyDetails: 'Days with incidents',
  historyTruncated: 'Only the most serious incidents are counted: there were too many to show all.',
  day: 'Day',
  worstIncident: 'Worst incident',
};

export type Messages = typeof en;

const de: Messages = {
  appName: 'incidentd',
  skipToContent: 'Zum Inhalt springen',
  language: 'Sprache',
  languageNames: { en: 'English', de: 'Deutsch' },
  loading: 'Wird geladen …',
  retry: 'Erneut versuchen',
  loadFailed: 'Der Status konnte nicht geladen werden. Der Dienst startet vielleicht gerade neu; bitte gleich noch einmal versuchen.',
  homeTitle: 'Störungsportal',
  homeIntro: 'Statusseiten zeigen die Dienste einer Organisation, laufende Störungen und die letzten 90 Tage.',
  statusPageOf: 'Statusseite von',
  tenantId: 'Kennung der Organisation',
  open: 'Öffnen',
  notFoundTitle: 'Seite nicht gefunden',
  notFoundText: 'Diese Seite gibt es nicht. Bitte die Adresse prüfen.',
  statusNotFound: 'Unter dieser Adresse gibt es keine Statusseite, oder sie ist nur für angemeldete Personen der Organisation sichtbar.',
  backHome: 'Zurück zur Startseite',
  overall: {
    operational: 'Alle Dienste laufen normal',
    degraded: 'Einige Dienste sind gestört',
    outage: 'Es liegt ein Ausfall vor',
  },
  updated: 'Stand',
  ongoingIncidents: 'Laufende Störungen',
  noIncidents: 'Keine laufenden Störungen.',
  since: 'seit',
  affects: 'Betrifft',
  at: 'in',
  stage: { investigating: 'Wird untersucht', identified: 'Ursache erkannt, in Bearbeitung' },
  severity: { minor: 'Gering', medium: 'Mittel', severe: 'Schwer', major: 'Kritisch' },
  services: 'Dienste',
  noServices: 'Für diese Organisation werden keine Dienste überwacht.',
  site: 'Standort',
  service: { up: 'In Betrieb', disrupted: 'Gestört', down: 'Ausgefallen', unknown: 'Noch keine Daten' },
  history: 'Letzte 90 Tage',
  historySummary: (days: number) =>
    days === 0 ? 'Keine Störungen in den letzten 90 Tagen.' : days === 1 ? 'Störungen an 1 Tag in den letzten 90 Tagen.' : `Störungen an ${days} Tagen in den letzten 90 Tagen.`,
  historyDay: (date: string, worst: string | null) => (worst === null ? `${date}: keine Störungen` : `${date}: schwerste Störung ${worst}`),
  historyDetails: 'Tage mit Störungen',
  historyTruncated: 'Nur die schwersten Störungen sind gezählt: es waren zu viele, um alle zu zeigen.',
  day: 'Tag',
  worstIncident: 'Schwerste Störung',
};

const CATALOGS: Record<Language, Messages> = { en, de };
const STORAGE_KEY = 'incidentd.language';

function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The chosen language, else the browser's first of ours, else English. */
export function initialLanguage(): Language {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (isLanguage(saved)) return saved;
  } catch {
    // Storage can be blocked (private mode settings); the browser's language still applies.
  }
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

/** Keeps the choice for the next visit. */
export function saveLanguage(lang: Language): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not kept across visits then; the page still switches.
  }
}

export function messages(lang: Language): Messages {
  return CATALOGS[lang];
}

const LOCALES: Record<Language, string> = { en: 'en-GB', de: 'de-DE' };

/** A point in time, in the viewer's time zone: "14 Mar 2026, 10:30". */
export function formatDateTime(lang: Language, iso: string): string {
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** A calendar day given as YYYY-MM-DD (already a day of the tenant's zone): shown as that day. */
export function formatDay(lang: Language, day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)));
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "5 minutes ago", "vor 2 Stunden". */
export function formatRelative(lang: Language, iso: string, now: number): string {
  const diff = new Date(iso).getTime() - now;
  const rtf = new Intl.RelativeTimeFormat(LOCALES[lang], { numeric: 'auto' });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return rtf.format(Math.round(diff / ms), unit);
  }
  return rtf.format(0, 'minute');
}
