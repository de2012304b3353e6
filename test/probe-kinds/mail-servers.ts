// Loopback mail servers for the probe tests: the IMAP/POP3 servers are the demo's (one
// implementation, in src/demo/mail-server.ts); certificates come from `selfSignedCert` (needs the
// openssl binary), which stays here because it reads the wall clock.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TlsKeyPair } from '../../src/demo/mail-server.js';

export {
  startImapServer,
  startPop3Server,
  type MailServer,
  type MailServerOptions,
  type TlsKeyPair,
} from '../../src/demo/mail-server.js';

const DAY_MS = 86_400_000;

function opensslDate(d: Date): string {
  // YYYYMMDDHHMMSSZ, the form `openssl ca -startdate/-enddate` takes.
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

/**

 * A self-signed certificate for CN=localhost with SANs 127.0.0.1, ::1 and localhost, valid from
 * `notBefore` (default: an hour ago) to `notAfter` (default: 30 days on). Dates in the past give
 * an expired certificate.
 */
export function selfSignedCert(opts: { notBefore?: Date; notAfter?: Date } = {}): TlsKeyPair {
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - 3_600_000);
  const notAfter = opts.notAfter ?? new Date(now + 30 * DAY_MS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'incidentd-cert-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'ca.cnf'),
      ['[ca]', 'default_ca = d', '[d]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial', 'default_md = sha256',
        'policy = p', 'copy_extensions = copy', '[p]', 'commonName = supplied', ''].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    fs.writeFileSync(path.join(dir, 'serial'), '01\n');
    execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost'],
      { cwd: dir, stdio: 'ignore' },
    );
    execFileSync(
      'openssl',
      ['ca', '-batch', '-config', 'ca.cnf', '-selfsign', '-keyfile', 'key.pem', '-in', 'req.csr', '-out', 'cert.pem', '-notext',
        '-startdate', opensslDate(notBefore), '-enddate', opensslDate(notAfter)],
      { cwd: dir, stdio: 'ignore' },
    );
    return { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
