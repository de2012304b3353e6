import { afterEach, describe, expect, it } from 'vitest';
import { tcpKind } from '../../src/probe-kinds/tcp.js';
import { closedPort, runKind, tcpServer, type Running } from './helpers.js';

const servers: Running[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function track(p: Promise<Running>): Promise<Running> {
  const s = await p;
  servers.push(s);
  return s;
}

describe('tcp probe kind', () => {
  it('is ok when the port accepts a connection, and reports connectMs', async () => {
    const s = await track(tcpServer(() => undefined));
    const r = await runKind(tcpKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('ok');
    expect(r.message).toContain(`127.0.0.1:${s.port}`);
    expect(typeof r.values.connectMs).toBe('number');
    expect(r.values.connectMs).toBeGreaterThanOrEqual(0);
  });

  it('is ok when the banner contains the expected text', async () => {
    const s = await track(tcpServer((sock) => sock.write('SSH-2.0-OpenSSH_9.2\r\n')));
    const r = await runKind(tcpKind, { host: '127.0.0.1', port: s.port, expect_banner: 'SSH-2.0' });
    expect(r.status).toBe('ok');
    expect(r.message).toContain('SSH-2.0-OpenSSH_9.2');
  });

  it('fails with "banner mismatch" when the server greets with something else and hangs up', async () => {
    const s = await track(tcpServer((sock) => sock.end('220 mail ESMTP ready\r\n')));
    const r = await runKind(tcpKind, { host: '127.0.0.1', port: s.port, expect_banner: 'SSH-2.0' });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('banner mismatch');
    expect(r.message).toContain('220 mail ESMTP');
    expect(typeof r.values.connectMs).toBe('number');
  });

  it('sends `send` and checks the reply against expect_banner', async () => {
    const s = await track(
      tcpServer((sock) => sock.on('data', (d) => sock.write(String(d).trim() === 'PING' ? '+PONG\r\n' : '-ERR\r\n'))),
    );
    const ok = await runKind(tcpKind, { host: '127.0.0.1', port: s.port, send: 'PING\r\n', expect_banner: '+PONG' });
    expect(ok.status).toBe('ok');
    const bad = await runKind(tcpKind, { host: '127.0.0.1', port: s.port, send: 'HELLO\r\n', expect_banner: '+PONG' }, 400);
    expect(bad.status).toBe('fail');
    expect(bad.message).toContain('-ERR');
  });

  it('fails with "connection refused" on a closed port', async () => {
    const port = await closedPort();
    const r = await runKind(tcpKind, { host: '127.0.0.1', port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('connection refused');
    expect(r.values.connectMs).toBeUndefined();
  });

  it('times out when the server accepts but never sends the expected banner', async () => {
    const s = await track(tcpServer(() => undefined));
    const r = await runKind(tcpKind, { host: '127.0.0.1', port: s.port, expect_banner: '220' }, 300);
    expect(r.status).toBe('fail');
    expect(r.message).toContain('timed out after 300 ms');
    expect(r.message).toContain('the server sent nothing');
    expect(typeof r.values.connectMs).toBe('number');
  });

  it('stops at once when the caller aborts', async () => {
    const s = await track(tcpServer(() => undefined));
    const controller = new AbortController();
    const pending = tcpKind.run(tcpKind.schema.parse({ host: '127.0.0.1', port: s.port, expect_banner: 'x' }) as never, {
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const r = await pending;
    expect(r.status).toBe('fail');
    expect(r.message).toContain('aborted: shutting down');
  });

  it('fails with a resolution message for a host that does not exist', async () => {
    const r = await runKind(tcpKind, { host: 'nohost.invalid', port: 22 });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('cannot resolve host name');
  });

  it('rejects unknown fields and bad ports in its schema', () => {
    expect(tcpKind.schema.safeParse({ host: 'a', port: 22, banner: 'x' }).success).toBe(false);
    expect(tcpKind.schema.safeParse({ host: 'a', port: 70000 }).success).toBe(false);
    expect(tcpKind.defaultName({ host: 'a', port: 22 })).toBe('tcp:22');
  });
});
