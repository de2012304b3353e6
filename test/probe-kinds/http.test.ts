import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpKind, httpKind, MAX_BODY_BYTES, type HttpSpec } from '../../src/probe-kinds/http.js';
import { FakeClock } from '../../src/shared/clock.js';
import { closedPort, httpServer, runKind, serve, type Running } from './helpers.js';

const servers: Running[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function track(p: Promise<Running>): Promise<Running> {
  const s = await p;
  servers.push(s);
  return s;
}

describe('http probe kind', () => {
  it('is ok for a 200 whose body contains the expected text, and reports status, latency and size', async () => {
    const s = await track(httpServer((_req, res) => res.end('{"status":"healthy"}')));
    const r = await runKind(httpKind, { url: `http://127.0.0.1:${s.port}/health`, expect: { body: 'healthy' } });
    expect(r.status).toBe('ok');
    expect(r.values.status).toBe(200);
    expect(r.values.bodyBytes).toBe(20);
    expect(typeof r.values.latencyMs).toBe('number');
    expect(r.values.certDaysLeft).toBeUndefined();
  });

  it('fails on a 500 and says which status it expected', async () => {
    const s = await track(
      httpServer((_req, res) => {
        res.statusCode = 500;
        res.end('boom');
      }),
    );
    const r = await runKind(httpKind, { url: `http://127.0.0.1:${s.port}/` });
    expect(r.status).toBe('fail');
    expect(r.values.status).toBe(500);
    expect(r.message).toContain('status 500, expected 200-399');
  });

  it('accepts a status listed in expect.status', async () => {
    const s = await track(
      httpServer((_req, res) => {
        res.statusCode = 401;
        res.end();
      }),
    );
    const r = await runKind(httpKind, { url: `http://127.0.0.1:${s.port}/`, expect: { status: [401, 403] } });
    expect(r.status).toBe('ok');
  });

  it('fails when the body does not contain the text or match the regex', async () => {
    const s = await track(httpServer((_req, res) => res.end('maintenance mode')));
    const url = `http://127.0.0.1:${s.port}/`;
    const sub = await runKind(httpKind, { url, expect: { body: 'healthy' } });
    expect(sub.status).toBe('fail');
    expect(sub.message).toContain('does not contain "healthy"');
    expect(sub.message).toContain('maintenance mode');
    const re = await runKind(httpKind, { url, expect: { body_regex: '^ok\\b' } });
    expect(re.status).toBe('fail');
    expect(re.message).toContain('does not match /^ok\\b/');
    const good = await runKind(httpKind, { url, expect: { body_regex: 'main\\w+ mode' } });
    expect(good.status).toBe('ok');
  });

  it('sends method, headers and body', async () => {
    const s = await track(
      httpServer((req, res) => {
        let data = '';
        req.on('data', (c) => (data += c));
        req.on('end', () => res.end(`${req.method} ${String(req.headers['x-token'])} ${data}`));
      }),
    );
    const r = await runKind(httpKind, {
      url: `http://127.0.0.1:${s.port}/`,
      method: 'POST',
      headers: { 'X-Token': 'abc' },
      body: 'ping',
      expect: { body: 'POST abc ping' },
    });
    expect(r.status).toBe('ok');
  });

  it('sends the same request headers whatever the method, and lets the check override them', async () => {
    const seen: string[][] = [];
    const s = await track(
      httpServer((req, res) => {
        seen.push(req.rawHeaders);
        req.resume();
        req.on('end', () => res.end('ok'));
      }),
    );
    const url = `http://127.0.0.1:${s.port}/`;
    expect((await runKind(httpKind, { url })).status).toBe('ok');
    expect((await runKind(httpKind, { url, method: 'POST', body: 'ping' })).status).toBe('ok');
    expect((await runKind(httpKind, { url, headers: { accept: 'text/plain', 'user-agent': 'mine', 'X-Token': 'abc' } })).status).toBe('ok');
    expect(seen[0]).toEqual([
      'Accept', 'application/json, text/plain, */*',
      'User-Agent', 'incidentd-probe',
      'Accept-Encoding', 'gzip, compress, deflate, br',
      'Host', `127.0.0.1:${s.port}`,
      'Connection', 'close',
    ]);
    // axios's own default for a string body without a Content-Type.
    expect(seen[1]).toEqual([
      'Accept', 'application/json, text/plain, */*',
      'Content-Type', 'application/x-www-form-urlencoded',
      'User-Agent', 'incidentd-probe',
      'Content-Length', '4',
      'Accept-Encoding', 'gzip, compress, deflate, br',
      'Host', `127.0.0.1:${s.port}`,
      'Connection', 'close',
    ]);
    expect(seen[2]).toEqual([
      'Accept', 'text/plain',
      'User-Agent', 'mine',
      'X-Token', 'abc',
      'Accept-Encoding', 'gzip, compress, deflate, br',
      'Host', `127.0.0.1:${s.port}`,
      'Connection', 'close',
    ]);
  });

  it('follows redirects unless told not to', async () => {
    const s = await track(
      httpServer((req, res) => {
        if (req.url === '/old') {
          res.writeHead(302, { Location: '/new' });
          res.end();
        } else res.end('arrived');
      }),
    );
    const url = `http://127.0.0.1:${s.port}/old`;
    const followed = await runKind(httpKind, { url, expect: { body: 'arrived' } });
    expect(followed.status).toBe('ok');
    expect(followed.values.status).toBe(200);
    const stayed = await runKind(httpKind, { url, follow_redirects: false, expect: { status: 302 } });
    expect(stayed.status).toBe('ok');
    expect(stayed.values.status).toBe(302);
  });

  it('follows a redirect on every run, and asks a POST only once per run', async () => {
    const asked: string[] = [];
    const s = await track(
      httpServer((req, res) => {
        asked.push(`${req.method} ${req.url}`);
        req.resume();
        if (req.url === '/old') {
          res.writeHead(302, { Location: '/new' });
          res.end();
        } else res.end('arrived');
      }),
    );
    const url = `http://127.0.0.1:${s.port}/old`;
    // One spec object for every run, as the scheduler keeps it.
    const spec = httpKind.schema.parse({ url, expect: { body: 'arrived' } }) as HttpSpec;
    for (let i = 0; i < 3; i++) {
      const r = await httpKind.run(spec, { timeoutMs: 2000, signal: new AbortController().signal });
      expect(r.status).toBe('ok');
      expect(r.values.status).toBe(200);
    }
    // After the first run the check follows from the start: one request to /old per run.
    expect(asked.slice(-4)).toEqual(['GET /old', 'GET /new', 'GET /old', 'GET /new']);
    asked.length = 0;
    const post = { url, method: 'POST' as const, body: 'x', expect: { body: 'arrived' } };
    expect((await runKind(httpKind, post)).status).toBe('ok');
    expect(asked).toEqual(['POST /old', 'GET /new']);
  });

  it('reads at most 1 MiB of a large body', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const s = await track(
      httpServer((_req, res) => {
        for (let i = 0; i < 48; i++) res.write(chunk); // 3 MiB
        res.end();
      }),
    );
    const r = await runKind(httpKind, { url: `http://127.0.0.1:${s.port}/` });
    expect(r.status).toBe('ok');
    expect(r.values.bodyBytes).toBe(MAX_BODY_BYTES);
  });

  it('fails with "connection refused" on a closed port', async () => {
    const port = await closedPort();
    const r = await runKind(httpKind, { url: `http://127.0.0.1:${port}/` });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('connection refused');
  });

  it('times out when the server never answers', async () => {
    const s = await track(httpServer(() => undefined));
    const r = await runKind(httpKind, { url: `http://127.0.0.1:${s.port}/` }, 300);
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/timed out after 300 ms/);
  });

  it('times out when the server sends headers but stalls the body', async () => {
    const s = await track(httpServer((_req, res) => res.write('partial')));
    const r = await runKind(httpKind, { url: `http://127.0.0.1:${s.port}/` }, 300);
    expect(r.status).toBe('fail');
    expect(r.values.status).toBe(200);
    expect(r.message).toContain('reading the body failed');
    expect(r.message).toContain('timed out');
  });

  it('fails with a resolution message for a host that does not exist', async () => {
    const r = await runKind(httpKind, { url: 'http://nohost.invalid/' });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('cannot resolve host name');
  });

  it('validates its fields strictly', () => {
    expect(httpKind.schema.safeParse({ url: 'ftp://x.invalid/' }).success).toBe(false);
    expect(httpKind.schema.safeParse({ url: 'http://x.invalid/', expect: { body_regex: '(' } }).success).toBe(false);
    expect(httpKind.schema.safeParse({ url: 'http://x.invalid/', expect: { stauts: 200 } }).success).toBe(false);
    expect(httpKind.schema.parse({ url: 'http://x.invalid/' })).toMatchObject({ method: 'GET', follow_redirects: true, tls_skip_verify: false });
  });
});

describe('http probe kind over https with a self-signed certificate', () => {
  let dir: string;
  let key: string;
  let cert: string;
  let validTo: number;
  let server: Running;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'incidentd-https-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '30',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { cwd: dir, stdio: 'ignore' },
    );
    key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
    cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    validTo = Date.parse(new X509Certificate(cert).validTo);
    server = await serve(https.createServer({ key, cert }, (_req, res) => res.end('secure hello')));
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the untrusted certificate and says how to accept it', async () => {
    const r = await runKind(httpKind, { url: `https://127.0.0.1:${server.port}/` });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('TLS certificate not accepted');
    expect(r.message).toContain('tls_skip_verify');
  });

  it('with tls_skip_verify, is ok and reports whole days until the certificate expires', async () => {
    const clock = new FakeClock(validTo - 10.5 * 86_400_000);
    const kind = createHttpKind(clock);
    const r = await runKind(kind, { url: `https://127.0.0.1:${server.port}/`, tls_skip_verify: true, expect: { body: 'secure' } });
    expect(r.status).toBe('ok');
    expect(r.values.certDaysLeft).toBe(10);
    expect(r.values.status).toBe(200);
  });

  it('reports a negative certDaysLeft once the certificate has expired', async () => {
    const kind = createHttpKind(new FakeClock(validTo + 2.5 * 86_400_000));
    const r = await runKind(kind, { url: `https://127.0.0.1:${server.port}/`, tls_skip_verify: true });
    expect(r.values.certDaysLeft).toBe(-3);
  });
});
