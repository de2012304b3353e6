// The receivers for bench/notify.ts, in a process of their own so that accepting mail does not take
// event-loop time from the daemon under test: an SMTP server (smtp-server, plain SMTP, no AUTH) and
// an HTTP server answering 200, both on 127.0.0.1. For every mail or request it reports the
// incident number and the wall-clock time (Date.now) at which the message was accepted, over IPC.
//
// It reads each message to its end and looks only at the header for the incident number: the
// Message-ID of an opening mail is `<INC-000123.…@domain>`, its subject carries `[INC-000123]`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type SinkKind = 'mail' | 'hook';

/** Child → parent. */
export type SinkMessage =
  | { type: 'ready'; smtpPort: number; httpPort: number }
  | { type: 'got'; items: SinkItem[] };

export interface SinkItem {
  kind: SinkKind;
  /** `INC-000123`, or `?` when the message named none. */
  number: string;
  /** Date.now() when the DATA (or the request body) was complete. */
  at: number;
}

const MESSAGE_ID = /^message-id:\s*<(INC-\d+)[.@]/im;
const SUBJECT_TAG = /^subject:.*?\[(INC-\d+)\]/im;
const BODY_NUMBER = /"number"\s*:\s*"(INC-\d+)"/;
/** Enough to hold the header of a ticket mail; the rest is read and dropped. */
const HEAD_BYTES = 8192;

function send(msg: SinkMessage): void {
  process.send!(msg);
}

// Items go to the parent in small batches: one IPC message per mail would cost the daemon's
// process more than the mail itself at a few thousand per second. Times are taken here, so the
// batching does not move them.
let pending: SinkItem[] = [];
let flushTimer: NodeJS.Timeout | null = null;
function report(item: SinkItem): void {
  pending.push(item);
  flushTimer ??= setTimeout(() => {
    flushTimer = null;
    const items = pending;
    pending = [];
    send({ type: 'got', items });
  }, 5);
}

const smtp = new SMTPServer({
  logger: false,
  disableReverseLookup: true,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  banner: 'bench sink',
  onData(stream, _session, callback) {
    let head = '';
    stream.on('data', (chunk: Buffer) => {
      if (head.length < HEAD_BYTES) head += chunk.toString('latin1');
    });
    stream.on('end', () => {
      const at = Date.now();
      const number = MESSAGE_ID.exec(head)?.[1] ?? SUBJECT_TAG.exec(head)?.[1] ?? '?';
      report({ kind: 'mail', number, at });
      callback();
    });
  },
});
smtp.on('error', (err) => console.error(`bench sink smtp: ${err.message}`));

const http = createServer((req: IncomingMessage, res: ServerResponse) => {
  let head = '';
  req.on('data', (chunk: Buffer) => {
    if (head.length < HEAD_BYTES) head += chunk.toString('utf8');
  });
  req.on('end', () => {
    const at = Date.now();
    report({ kind: 'hook', number: BODY_NUMBER.exec(head)?.[1] ?? '?', at });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
http.keepAliveTimeout = 60_000;

await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
send({
  type: 'ready',
  smtpPort: (smtp.server.address() as AddressInfo).port,
  httpPort: (http.address() as AddressInfo).port,
});

// The parent says when to go; losing the parent ends the sink too.
const stop = () => {
  smtp.close(() => undefined);
  http.closeAllConnections();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('message', (m) => {
  if (m === 'stop') stop();
});
process.on('disconnect', stop);
