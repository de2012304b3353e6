// The demo's simulated devices, read by the real probe kinds over loopback: what the probes see
// when the scenario breaks and repairs them.
import { afterEach, describe, expect, it } from 'vitest';
import { createImapKind } from '../../src/probe-kinds/imap.js';
import { printerKind } from '../../src/probe-kinds/printer.js';
import { createSmtpKind } from '../../src/probe-kinds/smtp.js';
import { createWifiApKind } from '../../src/probe-kinds/wifi-ap.js';
import { startImapServer, startSmtpServer } from '../../src/demo/mail-server.js';
import { startAccessPoint, startPrinter } from '../../src/demo/snmp-device.js';
import { FakeClock } from '../../src/shared/clock.js';
import { runKind } from '../probe-kinds/helpers.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((x) => x.stop()));
});
function track<T extends { stop(): Promise<void> }>(x: T): T {
  running.push(x);
  return x;
}

describe('simulated printer', () => {
  it('is healthy at start, raises lowToner below 10 %, and reports a jam as a failure', async () => {
    const p = track(await startPrinter({ tonerPercent: 64, pageCount: 1000 }));
    const spec = { host: p.host, port: p.port, community: p.community };

    const healthy = await runKind(printerKind, spec);
    expect(healthy.status).toBe('ok');
    expect(healthy.values).toMatchObject({ tonerPercent: 64, 'supply.1.color': 'black', pageCount: 1000, deviceStatus: 'running' });

    p.setToner(6);
    const low = await runKind(printerKind, spec);
    expect(low.status).toBe('fail');
    expect(low.values).toMatchObject({ conditions: 'lowToner', lowToner: true, tonerPercent: 6, deviceStatus: 'warning' });

    p.setToner(100);
    p.setJammed(true);
    p.print(5);
    const jammed = await runKind(printerKind, spec);
    expect(jammed.status).toBe('fail');
    expect(jammed.values).toMatchObject({ conditions: 'jammed', jammed: true, lowToner: false, deviceStatus: 'down', pageCount: 1005 });

    p.setJammed(false);
    expect((await runKind(printerKind, spec)).status).toBe('ok');
  });
});

describe('simulated access point', () => {
  it('reports its radios, clients by vendor preset and a reboot; a radio down fails the check', async () => {
    const clock = new FakeClock();
    const kind = createWifiApKind(clock);
    const ap = track(await startAccessPoint({ clock, vendor: 'aruba', clients: [5, 3] }));
    const spec = { host: ap.host, port: ap.port, community: ap.community, vendor: ap.vendor };

    await clock.advance(90_000);
    const up = await runKind(kind, spec);
    expect(up.status).toBe('ok');
    expect(up.values).toMatchObject({ radios: 2, radiosDown: 0, ethernet: 1, clients: 8, uptimeSeconds: 90, rebooted: false });

    ap.setRadioUp(2, false);
    const down = await runKind(kind, spec);
    expect(down.status).toBe('fail');
    expect(down.values).toMatchObject({ radiosDown: 1, downInterfaces: 'wifi1', clients: 5 });

    ap.setRadioUp(2, true);
    ap.setClients(1, 9);
    ap.reboot();
    await clock.advance(2_000);
    const rebooted = await runKind(kind, spec);
    expect(rebooted.status).toBe('ok');
    expect(rebooted.values).toMatchObject({ radiosDown: 0, clients: 12, rebooted: true, uptimeSeconds: 2 });
  });
});

describe('simulated mail server', () => {
  it('SMTP: banner, EHLO and AUTH succeed; a wrong password fails at AUTH; while down the banner fails', async () => {
    const kind = createSmtpKind();
    const smtp = track(await startSmtpServer({ users: { monitor: 's3cret' } }));
    const spec = { host: '127.0.0.1', port: smtp.port, ehlo_name: 'probe.test', username: 'monitor', allow_insecure_auth: true };

    const ok = await runKind(kind, { ...spec, password: 's3cret' });
    expect(ok.status).toBe('ok');
    expect(ok.values.capabilities).toContain('AUTH');
    expect(ok.message).toContain('logged in as monitor with PLAIN');

    const refused = await runKind(kind, { ...spec, password: 'wrong' });
    expect(refused.status).toBe('fail');
    expect(refused.message).toContain('AUTH');
    expect(refused.message).toContain('535');

    smtp.setDown(true);
    const down = await runKind(kind, { host: '127.0.0.1', port: smtp.port });
    expect(down.status).toBe('fail');
    expect(down.message).toContain('banner');
    expect(down.message).toContain('421');

    smtp.setDown(false);
    expect((await runKind(kind, { host: '127.0.0.1', port: smtp.port })).status).toBe('ok');
  });

  it('IMAP: greeting and CAPABILITY succeed; while down the greeting is refused', async () => {
    const kind = createImapKind();
    const imap = track(await startImapServer());
    const spec = { host: '127.0.0.1', port: imap.port };
    expect((await runKind(kind, spec)).status).toBe('ok');
    imap.setDown(true);
    const down = await runKind(kind, spec);
    expect(down.status).toBe('fail');
    expect(down.message).toContain('refused the session');
  });
});

describe('simulated printer, unplugged', () => {
  it('gives no answer: the reading is partial and says the device did not answer', async () => {
    const p = track(await startPrinter({ tonerPercent: 4 }));
    const spec = { host: p.host, port: p.port, community: p.community, retries: 0 };
    const low = await runKind(printerKind, spec, 400);
    expect(low).toMatchObject({ status: 'fail', values: { answered: true, lowToner: true } });
    expect(low.partial).toBeUndefined();
    p.setSilent(true);
    const silent = await runKind(printerKind, spec, 400);
    expect(silent).toMatchObject({ status: 'fail', partial: true, values: { answered: false } });
    expect(silent.message).toMatch(/no answer within/);
    p.setSilent(false);
    expect((await runKind(printerKind, spec, 400)).values.answered).toBe(true);
  });
});
