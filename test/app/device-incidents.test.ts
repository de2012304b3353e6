// Device incidents against a real SNMP agent (the demo's simulated printer, net-snmp on loopback),
// read by the real printer probe, classified by the shipped rules (rules/*.yaml), and turned into
// incidents by the manager over a real SQLite store (issue 13).
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signalFromCheck } from '../../src/app/probe-signal.js';
import { loadConfig } from '../../src/config/load.js';
import { startPrinter, type SimulatedPrinter } from '../../src/demo/snmp-device.js';
import type { TargetRef } from '../../src/domain/signal.js';
import { printerKind } from '../../src/probe-kinds/printer.js';
import { runProbe } from '../../src/probe-kinds/run.js';
import { REPO } from '../config/helpers.js';
import { harness, type Harness } from '../incidents/harness.js';

const SHIPPED = {
  config: path.join(REPO, 'config/incidentd.yaml'),
  probesDir: path.join(REPO, 'probes'),
  rulesDir: path.join(REPO, 'rules'),
};
const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 4, 8, 0, 0);
const printerTarget: TargetRef = { id: 'printer-2og', kind: 'printer', name: 'Printer 2OG', site: 'HQ', labels: {}, dependsOn: [] };

let h: Harness | null = null;
let printer: SimulatedPrinter | null = null;
afterEach(async () => {
  await h?.close();
  await printer?.stop();
  h = null;
  printer = null;
});

async function setup(): Promise<{ h: Harness; printer: SimulatedPrinter; poll: () => Promise<void> }> {
  const { rules } = await loadConfig(SHIPPED, {});
  h = await harness({ rules, targets: [printerTarget] });
  printer = await startPrinter({ tonerPercent: 64 });
  const spec = printerKind.schema.parse({ host: printer.host, port: printer.port, community: printer.community, retries: 0 });
  let at = T0;
  const poll = async () => {
    const result = await runProbe(printerKind, spec, { timeoutMs: 400, signal: new AbortController().signal });
    at += MIN;
    await h!.manager.submit(signalFromCheck(printerTarget, { name: 'printer', type: 'printer' }, result, at));
  };
  return { h, printer, poll };
}

async function incidents(hh: Harness): Promise<Record<string, string>> {
  return Object.fromEntries((await hh.store.list({}, 50)).items.map((i) => [i.ruleId, i.status]));
}

describe('a printer with several problems (real SNMP agent, shipped rules)', () => {
  it('toner low and a jam are two incidents; the jam clearing resolves only the jam', async () => {
    const { h, printer, poll } = await setup();
    printer.setToner(4);
    printer.setJammed(true);
    await poll();
    expect(await incidents(h)).toEqual({ 'printer-jammed': 'open', 'printer-supplies-low': 'open' });
    printer.setJammed(false);
    await poll();
    expect(await incidents(h)).toEqual({ 'printer-jammed': 'resolved', 'printer-supplies-low': 'open' });
    const toner = (await h.store.list({}, 50)).items.find((i) => i.ruleId === 'printer-supplies-low')!;
    expect((await h.store.get(toner.number))!.timeline.map((e) => e.action)).toEqual(['opened']);
  });

  it('a jam on top of low toner leaves the toner incident open', async () => {
    const { h, printer, poll } = await setup();
    printer.setToner(4);
    await poll();
    expect(await incidents(h)).toEqual({ 'printer-supplies-low': 'open' });
    printer.setJammed(true);
    await poll();
    await poll();
    expect(await incidents(h)).toEqual({ 'printer-jammed': 'open', 'printer-supplies-low': 'open' });
  });

  it('an agent that goes silent opens its own incident and leaves the toner incident untouched', async () => {
    const { h, printer, poll } = await setup();
    printer.setToner(4);
    await poll();
    printer.setSilent(true);
    for (let i = 0; i < 3; i++) await poll();
    expect(await incidents(h)).toEqual({ 'printer-supplies-low': 'open', 'printer-unreachable': 'open' });
    const toner = (await h.store.list({}, 50)).items.find((i) => i.ruleId === 'printer-supplies-low')!;
    expect((await h.store.get(toner.number))!.timeline.map((e) => e.action)).toEqual(['opened']);
    // Back: the unreachable incident resolves (resolve_after 2), the toner is still low.
    printer.setSilent(false);
    await poll();
    await poll();
    expect(await incidents(h)).toEqual({ 'printer-supplies-low': 'open', 'printer-unreachable': 'resolved' });
  });

  it('a device warning without error bits is a mild warning, never "does not answer"', async () => {
    const { h, printer, poll } = await setup();
    printer.setWarning(true);
    for (let i = 0; i < 4; i++) await poll();
    const items = (await h.store.list({}, 50)).items;
    expect(items.map((i) => [i.ruleId, i.status, i.severity])).toEqual([['printer-warning', 'open', 'minor']]);
    expect(items[0]!.title).not.toMatch(/does not answer/);
    printer.setWarning(false);
    await poll();
    await poll();
    expect(await incidents(h)).toEqual({ 'printer-warning': 'resolved' });
  });
});
