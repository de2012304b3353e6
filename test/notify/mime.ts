// Just enough RFC 5322 / MIME reading for the tests: unfolded headers and the decoded text and HTML
// parts of a multipart/alternative message (quoted-printable or base64). mailparser is not a
// dependency, and a small reader keeps what the test checks visible.

export interface ParsedMail {
  headers: Map<string, string>;
  text: string;
  html: string;
  /** Parts sent as attachments (Content-Disposition: attachment), decoded as text. */
  attachments: { filename: string; contentType: string; content: string }[];
}

function splitHead(raw: string): { head: string; body: string } {
  const i = raw.indexOf('\r\n\r\n');
  return i < 0 ? { head: raw, body: '' } : { head: raw.slice(0, i), body: raw.slice(i + 4) };
}

function parseHeaders(head: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const c = line.indexOf(':');
    if (c > 0) out.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return out;
}

function decode(body: string, encoding: string | undefined, charset = 'utf-8'): string {
  const enc = (encoding ?? '7bit').toLowerCase();
  let bytes: Buffer;
  if (enc === 'base64') bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (enc === 'quoted-printable') {
    const soft = body.replace(/=\r\n/g, '');
    const parts: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      const ch = soft[i]!;
      if (ch === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
        parts.push(parseInt(soft.slice(i + 1, i + 3), 16));
        i += 2;
      } else parts.push(...Buffer.from(ch, 'utf8'));
    }
    bytes = Buffer.from(parts);
  } else bytes = Buffer.from(body, 'utf8');
  return new TextDecoder(charset).decode(bytes).replace(/\r\n/g, '\n');
}

function param(value: string | undefined, name: string): string | undefined {
  const m = new RegExp(`${name}="?([^";]+)"?`, 'i').exec(value ?? '');
  return m?.[1];
}

export function parseMail(raw: string): ParsedMail {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  const out: ParsedMail = { headers, text: '', html: '', attachments: [] };
  const visit = (h: Map<string, string>, b: string) => {
    const type = (h.get('content-type') ?? 'text/plain').toLowerCase();
    if (type.startsWith('multipart/')) {
      const boundary = param(h.get('content-type'), 'boundary');
      if (!boundary) return;
      const chunks = b.split(`--${boundary}`).slice(1);
      for (const chunk of chunks) {
        if (chunk.startsWith('--')) break;
        const part = splitHead(chunk.replace(/^\r\n/, ''));
        visit(parseHeaders(part.head), part.body.replace(/\r\n$/, ''));
      }
      return;
    }
    const text = decode(b, h.get('content-transfer-encoding'), param(h.get('content-type'), 'charset'));
    const disposition = h.get('content-disposition') ?? '';
    if (disposition.toLowerCase().startsWith('attachment')) out.attachments.push({ filename: param(disposition, 'filename') ?? '', contentType: type, content: text });
    else if (type.startsWith('text/html')) out.html += text;
    else if (type.startsWith('text/plain')) out.text += text;
  };
  visit(headers, body);
  return out;
}
