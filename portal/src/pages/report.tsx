// The report form: an employee says what is wrong, with a template per category (its own questions
// and examples, and the self-help hint of its rule shown before sending), where, who is affected and
// since when. The daemon turns the report into a signal; a report about a known problem joins that
// incident. The daemon checks every field; its objections are shown next to their inputs.
import { useEffect, useRef, useState } from 'preact/hooks';
import { EVERYONE, Link } from '../link';
import { useText } from '../context';
import {
  AFFECTED,
  CATEGORIES,
  localInputToIso,
  nowAsLocalInput,
  type Affected,
  type FiledReport,
  type NewReport,
  type ReportCategory,
  type ReportForm,
} from '../problem-reports';
import { api, ApiError } from '../session';
import { RequireRole } from '../guard';
import { LoadFailed } from '../components/load-failed';

const en = {
  title: 'Report a problem',
  intro: 'Tell us what does not work. You get a number at once, by mail as well, and can follow it under “My reports”.',
  loading: 'Loading…',
  loadFailed: 'The form could not be loaded. The service may be restarting; try again in a moment.',
  retry: 'Try again',
  organisation: 'Organisation',
  category: 'What is it about?',
  categories: { wifi: 'Wi-Fi', printer: 'Printer', email: 'E-mail', server: 'Server or application', other: 'Something else' },
  tryFirst: 'Try first:',
  target: {
    wifi: 'Which access point? (if you know)',
    printer: 'Which printer?',
    email: 'Which mail service?',
    server: 'Which server or application?',
    other: 'Which device or service?',
  },
  targetUnknown: 'Another one, or I do not know',
  network: 'Network name (the Wi-Fi you connect to)',
  networkPlaceholder: 'e.g. ACME-Staff',
  mailFails: 'What fails?',
  mailFailures: { '': 'Please choose', sending: 'Sending mail', receiving: 'Receiving mail', signin: 'Signing in', calendar: 'Calendar or shared mailboxes', all: 'Everything' },
  description: 'What happens?',
  placeholder: {
    wifi: 'e.g. the laptop sees the network but cannot connect; the connection drops every few minutes',
    printer: 'e.g. paper jam in tray 2; the display shows an error; print jobs stay in the queue',
    email: 'e.g. mails stay in the outbox; Outlook says “cannot connect to the server”',
    server: 'e.g. the accounting application answers “service unavailable” after signing in',
    other: 'What happens, and what did you expect?',
  },
  where: 'Where?',
  site: 'Site',
  siteNone: 'Please choose',
  room: 'Room or floor',
  roomPlaceholder: 'e.g. 3rd floor, room 3.12',
  affected: 'Who is affected?',
  affectedChoices: { me: 'Just me', several: 'Several people', site: 'The whole site' } as Record<Affected, string>,
  since: 'Since when? (your local time)',
  contact: 'How can we reach you?',
  contactHelp: 'We know your mail address; add a phone number or a place if that is quicker.',
  contactPlaceholder: 'e.g. phone 0123 456 789',
  send: 'Send report',
  sending: 'Sending…',
  fixFields: 'The report was not sent. Please correct the marked fields.',
  sendFailed: 'The report could not be sent: the service did not answer. Your text is kept; try again in a moment.',
  refused: 'The report was not accepted:',
  received: 'Report received',
  yourNumber: 'Your number:',
  joined: 'This problem is already known and being worked on; you were added as affected and will hear when it is resolved.',
  newOne: 'A new incident was opened for your report. You will hear by mail when it is being worked on and when it is resolved.',
  waiting: 'It is looked at together with similar reports; as soon as it is taken up as an incident, its number appears under “My reports” and you hear by mail.',
  myReports: 'See my reports',
  another: 'Report another problem',
};

const de: typeof en = {
  title: 'Problem melden',
  intro: 'Sagen Sie uns, was nicht funktioniert. Sie erhalten sofort eine Nummer, auch per Mail, und können den Stand unter „Meine Meldungen“ verfolgen.',
  loading: 'Wird geladen …',
  loadFailed: 'Das Formular konnte nicht geladen werden. Der Dienst startet vielleicht gerade neu; bitte gleich noch einmal versuchen.',
  retry: 'Erneut versuchen',
  organisation: 'Organisation',
  category: 'Worum geht es?',
  categories: { wifi: 'WLAN', printer: 'Drucker', email: 'E-Mail', server: 'Server oder Anwendung', other: 'Etwas anderes' },
  tryFirst: 'Versuchen Sie zuerst:',
  target: {
    wifi: 'Welcher Access Point? (falls bekannt)',
    printer: 'Welcher Drucker?',
    email: 'Welcher Maildienst?',
    server: 'Welcher Server oder welche Anwendung?',
    other: 'Welches Gerät oder welcher Dienst?',
  },
  targetUnknown: 'Ein anderer, oder ich weiß es nicht',
  network: 'Netzwerkname (das WLAN, mit dem Sie sich verbinden)',
  networkPlaceholder: 'z. B. ACME-Staff',
  mailFails: 'Was funktioniert nicht?',
  mailFailures: { '': 'Bitte wählen', sending: 'Mails senden', receiving: 'Mails empfangen', signin: 'Anmelden', calendar: 'Kalender oder gemeinsame Postfächer', all: 'Gar nichts' },
  description: 'Was passiert?',
  placeholder: {
    wifi: 'z. B. der Laptop sieht das Netz, verbindet sich aber nicht; die Verbindung bricht alle paar Minuten ab',
    printer: 'z. B. Papierstau in Fach 2; das Display zeigt einen Fehler; Druckaufträge bleiben in der Warteschlange',
    email: 'z. B. Mails bleiben im Postausgang; Outlook meldet „keine Verbindung zum Server“',
    server: 'z. B. die Buchhaltung meldet nach der Anmeldung „Dienst nicht verfügbar“',
    other: 'Was passiert, und was haben Sie erwartet?',
  },
  where: 'Wo?',
  site: 'Standort',
  siteNone: 'Bitte wählen',
  room: 'Raum oder Etage',
  roomPlaceholder: 'z. B. 3. OG, Raum 3.12',
  affected: 'Wer ist betroffen?',
  affectedChoices: { me: 'Nur ich', several: 'Mehrere Personen', site: 'Der ganze Standort' },
  since: 'Seit wann? (Ihre Ortszeit)',
  contact: 'Wie erreichen wir Sie?',
  contactHelp: 'Ihre Mailadresse kennen wir; geben Sie eine Telefonnummer oder einen Ort an, wenn das schneller geht.',
  contactPlaceholder: 'z. B. Telefon 0123 456 789',
  send: 'Meldung senden',
  sending: 'Wird gesendet …',
  fixFields: 'Die Meldung wurde nicht gesendet. Bitte korrigieren Sie die markierten Felder.',
  sendFailed: 'Die Meldung konnte nicht gesendet werden: der Dienst hat nicht geantwortet. Ihr Text bleibt erhalten; bitte gleich noch einmal versuchen.',
  refused: 'Die Meldung wurde nicht angenommen:',
  received: 'Meldung eingegangen',
  yourNumber: 'Ihre Nummer:',
  joined: 'Dieses Problem ist bereits bekannt und wird bearbeitet; Sie wurden als betroffen eingetragen und erfahren, wenn es behoben ist.',
  newOne: 'Zu Ihrer Meldung wurde eine neue Störung angelegt. Sie erfahren per Mail, wenn sie bearbeitet wird und wenn sie behoben ist.',
  waiting: 'Sie wird zusammen mit ähnlichen Meldungen geprüft; sobald daraus eine Störung wird, erscheint ihre Nummer unter „Meine Meldungen“ und Sie erhalten eine Mail.',
  myReports: 'Meine Meldungen ansehen',
  another: 'Weiteres Problem melden',
};

const TEXT = { en, de };

/** The fields the daemon may object to, each with the id of its input (or group). */
const FIELDS = ['tenant', 'category', 'target', 'description', 'site', 'room', 'affected', 'since', 'contact'] as const;
type Field = (typeof FIELDS)[number];

function fieldOf(path: string): Field | null {
  // The daemon names a field by its key, possibly as a path ("body.description", "since").
  const last = path.split(/[.[\]/]/).filter((p) => p !== '').pop() ?? '';
  return (FIELDS as readonly string[]).includes(last) ? (last as Field) : null;
}

type Load = { kind: 'loading' } | { kind: 'failed' } | { kind: 'ok'; form: ReportForm };

export function ReportPage() {
  return (
    <RequireRole roles={EVERYONE}>
      <ReportPageBody />
    </RequireRole>
  );
}

function ReportPageBody() {
  const text = useText(TEXT);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [filed, setFiled] = useState<FiledReport | null>(null);

  useEffect(() => {
    document.title = `${text.title} · incidentd`;
  }, [text]);

  useEffect(() => {
    const abort = new AbortController();
    api<ReportForm>('GET', '/api/v1/problem-reports/form', undefined, abort.signal).then(
      (form) => setLoad({ kind: 'ok', form }),
      () => {
        if (!abort.signal.aborted) setLoad({ kind: 'failed' });
      },
    );
    return () => abort.abort();
  }, [attempt]);

  if (filed !== null) return <Confirmation filed={filed} onAnother={() => setFiled(null)} />;
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
  return <ReportFormView form={load.form} onFiled={setFiled} />;
}

function ReportFormView({ form, onFiled }: { form: ReportForm; onFiled: (r: FiledReport) => void }) {
  const text = useText(TEXT);
  const [tenant, setTenant] = useState(form.tenants[0]?.id ?? '');
  const [category, setCategory] = useState<ReportCategory | null>(null);
  const [target, setTarget] = useState('');
  const [network, setNetwork] = useState('');
  const [mailFails, setMailFails] = useState<keyof typeof en.mailFailures>('');
  const [description, setDescription] = useState('');
  const [site, setSite] = useState('');
  const [room, setRoom] = useState('');
  const [affected, setAffected] = useState<Affected>('me');
  const [since, setSince] = useState('');
  const [contact, setContact] = useState('');
  const [sending, setSending] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [problem, setProblem] = useState<{ message: string; others: string[] } | null>(null);
  const summary = useRef<HTMLDivElement>(null);

  /** An edited field loses its objection; the daemon checks it again on the next send. */
  const clear = (field: Field) =>
    setErrors((prev) => {
      if (prev[field] === undefined) return prev;
      const next = { ...prev };
      delete next[field];
      return next;
    });

  const sites = form.sites.filter((s) => s.tenant === tenant);
  const targets = category === null ? [] : form.targets.filter((t) => t.tenant === tenant && t.category === category);
  const hint = category === null ? null : (form.categories.find((c) => c.id === category)?.hint ?? null);
  const offered = CATEGORIES.filter((c) => form.categories.length === 0 || form.categories.some((k) => k.id === c));

  useEffect(() => {
    if (problem !== null) summary.current?.focus();
  }, [problem]);

  /** The template's own answers lead the description, so whoever works the incident reads them. */
  const fullDescription = (): string => {
    if (description.trim() === '') return description;
    const lines: string[] = [];
    if (category === 'wifi' && network.trim() !== '') lines.push(`${text.network}: ${network.trim()}`);
    if (category === 'email' && mailFails !== '') lines.push(`${text.mailFails} ${text.mailFailures[mailFails]}`);
    return lines.length === 0 ? description : `${lines.join('\n')}\n\n${description}`;
  };

  const submit = async () => {
    const iso = localInputToIso(since);
    const body: Partial<NewReport> = {
      ...(form.tenants.length > 1 ? { tenant } : {}),
      ...(category === null ? {} : { category }),
      description: fullDescription(),
      ...(site === '' ? {} : { site }),
      ...(room.trim() === '' ? {} : { room: room.trim() }),
      ...(target === '' || targets.every((t) => t.id !== target) ? {} : { target }),
      affected,
      ...(iso === null ? {} : { since: iso }),
      ...(contact.trim() === '' ? {} : { contact: contact.trim() }),
    };
    setSending(true);
    try {
      const filed = await api<FiledReport>('POST', '/api/v1/problem-reports', body);
      onFiled(filed);
    } catch (err) {
      if (err instanceof ApiError) {
        const next: Partial<Record<Field, string>> = {};
        const others: string[] = [];
        for (const issue of err.details) {
          const field = fieldOf(issue.field);
          if (field === null || field in next) others.push(field === null ? `${issue.field}: ${issue.message}` : issue.message);
          else next[field] = issue.message;
        }
        setErrors(next);
        setProblem({ message: err.details.length > 0 ? text.fixFields : `${text.refused} ${err.message}`, others });
      } else {
        setErrors({});
        setProblem({ message: text.sendFailed, others: [] });
      }
    } finally {
      setSending(false);
    }
  };

  /** The props that tie an input to its objection, when there is one. */
  const described = (field: Field, help?: string) => {
    const ids = [help, errors[field] === undefined ? undefined : `r-${field}-error`].filter((x) => x !== undefined);
    return {
      'aria-invalid': errors[field] === undefined ? undefined : ('true' as const),
      'aria-describedby': ids.length === 0 ? undefined : ids.join(' '),
    };
  };
  const errorOf = (field: Field) =>
    errors[field] === undefined ? null : (
      <p id={`r-${field}-error`} class="field-error">
        {errors[field]}
      </p>
    );

  return (
    <section class="report">
      <h1>{text.title}</h1>
      <p>{text.intro}</p>
      {problem !== null && (
        <div class="form-problem" role="alert" tabIndex={-1} ref={summary}>
          <p>{problem.message}</p>
          {problem.others.length > 0 && (
            <ul>
              {problem.others.map((o) => (
                <li key={o}>{o}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!sending) void submit();
        }}
      >
        {form.tenants.length > 1 && (
          <div class="field">
            <label for="r-tenant">{text.organisation}</label>
            <select
              id="r-tenant"
              value={tenant}
              onChange={(e) => {
                setTenant(e.currentTarget.value);
                clear('tenant');
                setSite('');
                setTarget('');
              }}
              {...described('tenant')}
            >
              {form.tenants.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
            {errorOf('tenant')}
          </div>
        )}

        <fieldset class="choices" {...described('category')}>
          <legend>{text.category}</legend>
          {offered.map((c) => (
            <label key={c} class="choice">
              <input
                type="radio"
                name="category"
                value={c}
                checked={category === c}
                onChange={() => {
                  setCategory(c);
                  clear('category');
                  setTarget('');
                }}
              />
              {text.categories[c]}
            </label>
          ))}
          {errorOf('category')}
        </fieldset>

        {hint !== null && (
          <p class="hint" id="r-hint">
            <strong>{text.tryFirst}</strong> {hint}
          </p>
        )}

        {category !== null && targets.length > 0 && (
          <div class="field">
            <label for="r-target">{text.target[category]}</label>
            <select
              id="r-target"
              value={target}
              onChange={(e) => {
                const id = e.currentTarget.value;
                setTarget(id);
                clear('target');
                // The device's own site is the likely answer to "where".
                const chosen = targets.find((t) => t.id === id);
                if (chosen !== undefined && site === '' && sites.some((s) => s.name === chosen.site)) setSite(chosen.site);
              }}
              {...described('target')}
            >
              <option value="">{text.targetUnknown}</option>
              {targets.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.site === '' ? t.name : `${t.name} (${t.site})`}
                </option>
              ))}
            </select>
            {errorOf('target')}
          </div>
        )}

        {category === 'wifi' && (
          <div class="field">
            <label for="r-network">{text.network}</label>
            <input id="r-network" value={network} placeholder={text.networkPlaceholder} autocomplete="off" onInput={(e) => setNetwork(e.currentTarget.value)} />
          </div>
        )}

        {category === 'email' && (
          <div class="field">
            <label for="r-mail-fails">{text.mailFails}</label>
            <select id="r-mail-fails" value={mailFails} onChange={(e) => setMailFails(e.currentTarget.value as keyof typeof en.mailFailures)}>
              {(Object.keys(text.mailFailures) as (keyof typeof en.mailFailures)[]).map((k) => (
                <option key={k} value={k}>
                  {text.mailFailures[k]}
                </option>
              ))}
            </select>
          </div>
        )}

        <div class="field">
          <label for="r-description">{text.description}</label>
          <textarea
            id="r-description"
            rows={4}
            value={description}
            placeholder={text.placeholder[category ?? 'other']}
            onInput={(e) => {
              setDescription(e.currentTarget.value);
              clear('description');
            }}
            {...described('description')}
          />
          {errorOf('description')}
        </div>

        <fieldset class="group">
          <legend>{text.where}</legend>
          <div class="field">
            <label for="r-site">{text.site}</label>
            <select id="r-site" value={site} onChange={(e) => {
                setSite(e.currentTarget.value);
                clear('site');
              }} {...described('site')}>
              <option value="">{text.siteNone}</option>
              {sites.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
            {errorOf('site')}
          </div>
          <div class="field">
            <label for="r-room">{text.room}</label>
            <input id="r-room" value={room} placeholder={text.roomPlaceholder} onInput={(e) => {
                setRoom(e.currentTarget.value);
                clear('room');
              }} {...described('room')} />
            {errorOf('room')}
          </div>
        </fieldset>

        <fieldset class="choices" {...described('affected')}>
          <legend>{text.affected}</legend>
          {AFFECTED.map((a) => (
            <label key={a} class="choice">
              <input type="radio" name="affected" value={a} checked={affected === a} onChange={() => {
                  setAffected(a);
                  clear('affected');
                }} />
              {text.affectedChoices[a]}
            </label>
          ))}
          {errorOf('affected')}
        </fieldset>

        <div class="field">
          <label for="r-since">{text.since}</label>
          <input id="r-since" type="datetime-local" value={since} max={nowAsLocalInput()} onInput={(e) => {
              setSince(e.currentTarget.value);
              clear('since');
            }} {...described('since')} />
          {errorOf('since')}
        </div>

        <div class="field">
          <label for="r-contact">{text.contact}</label>
          <input
            id="r-contact"
            value={contact}
            placeholder={text.contactPlaceholder}
            autocomplete="tel"
            onInput={(e) => {
              setContact(e.currentTarget.value);
              clear('contact');
            }}
            {...described('contact', 'r-contact-help')}
          />
          <p id="r-contact-help" class="muted small">
            {text.contactHelp}
          </p>
          {errorOf('contact')}
        </div>

        <button type="submit" disabled={sending}>
          {sending ? text.sending : text.send}
        </button>
      </form>
    </section>
  );
}

function Confirmation({ filed, onAnother }: { filed: FiledReport; onAnother: () => void }) {
  const text = useText(TEXT);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // Screen readers and keyboards start at the answer, not at the top of the old form.
    heading.current?.focus();
  }, []);
  return (
    <section class="report-received" aria-labelledby="r-received">
      <h1 id="r-received" tabIndex={-1} ref={heading}>
        {text.received}
      </h1>
      {filed.number === null ? (
        <p role="status">{text.waiting}</p>
      ) : (
        <>
          <p class="number">
            {text.yourNumber} <strong>{filed.number}</strong>
          </p>
          <p role="status">{filed.joined ? text.joined : text.newOne}</p>
        </>
      )}
      {filed.hint !== null && (
        <p class="hint">
          <strong>{text.tryFirst}</strong> {filed.hint}
        </p>
      )}
      <p class="actions">
        <Link href="/my-reports">{text.myReports}</Link>
        <button type="button" class="secondary" onClick={onAnother}>
          {text.another}
        </button>
      </p>
    </section>
  );
}
