// Why a mail probe step went wrong. The kinds turn these into fail results; none escapes run().
import { IncidentdError } from '../../shared/errors.js';

/** The server closed the connection while the probe still waited for a reply. */
export class MailConnectionClosedError extends IncidentdError {
  constructor() {
    super('the server closed the connection');
  }
}

/** The server sent a line longer than any sane reply: it is not speaking the expected protocol. */
export class MailLineTooLongError extends IncidentdError {
  constructor(readonly limit: number) {
    super(`the server sent a line longer than ${limit} bytes; is this port really a mail service?`);
  }
}

/** The server answered, but not with what the protocol step needs (a negative or garbled reply). */
export class MailReplyError extends IncidentdError {}

/** The TLS handshake finished but the certificate is not trusted, and tls_skip_verify is off. */
export class MailCertificateError extends IncidentdError {
  constructor(readonly code: string) {
    super(`certificate not accepted (${code}); fix the certificate or set tls_skip_verify: true`);
  }
}

/** One named step (banner, EHLO, STARTTLS, AUTH…) failed; the message says which and why. */
export class MailStepError extends IncidentdError {
  constructor(
    readonly step: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${step} failed: ${reason}`, options);
  }
}
