import { afterEach, describe, expect, it } from 'vitest';
import { decodePrinterErrors, printerKind, supplyPercent } from '../../src/probe-kinds/printer.js';
import { PRINTER_MIB } from '../../src/probe-kinds/snmp/oids.js';
import { runKind } from './helpers.js';
import { startAgent, type AgentValue, type TestAgent } from './snmp-agent.js';

const HR_DEVICE_STATUS = '1.3.6.1.2.1.25.3.2.1.5.1';
const HR_PRINTER_STATUS = '1.3.6.1.2.1.25.3.5.1.1.1';
const HR_ERROR_STATE = '1.3.6.1.2.1.25.3.5.1.2.1';
const SUPPLY = (column: number, index: number) => `1.3.6.1.2.1.43.11.1.1.${column}.1.${index}`;
const COLORANT = (index: number) => `1.3.6.1.2.1.43.12.1.1.4.1.${index}`;
// From the OID table (an SNMP OID, not an address), device 1 marker 1.
const LIFE_COUNT = `${PRINTER_MIB.prtMarkerLifeCount}.1.1`;

/** A mono laser with a black toner, a waste toner box and a cyan cartridge that only knows "some left". */
function printerValues(): Record<string, AgentValue> {
  return {
    [HR_DEVICE_STATUS]: { type: 'Integer', value: 2 },
    [HR_PRINTER_STATUS]: { type: 'Integer', value: 3 },
    [HR_ERROR_STATE]: { type: 'OctetString', value: Buffer.from([0x00, 0x00]) },
    [SUPPLY(3, 1)]: { type: 'Integer', value: 1 },
    [SUPPLY(4, 1)]: { type: 'Integer', value: 3 },
    [SUPPLY(6, 1)]: { type: 'OctetString', value: 'Black Toner Cartridge' },
    [SUPPLY(8, 1)]: { type: 'Integer', value: 1000 },
    [SUPPLY(9, 1)]: { type: 'Integer', value: 450 },
    [SUPPLY(4, 2)]: { type: 'Integer', value: 4 },
    [SUPPLY(6, 2)]: { type: 'OctetString', value: 'Waste Toner Box' },
    [SUPPLY(8, 2)]: { type: 'Integer', value: 100 },
    [SUPPLY(9, 2)]: { type: 'Integer', value: 3 },
    [SUPPLY(3, 3)]: { type: 'Integer', value: 2 },
    [SUPPLY(4, 3)]: { type: 'Integer', value: 3 },
    [SUPPLY(6, 3)]: { type: 'OctetString', value: 'Cyan Toner' },
    [SUPPLY(8, 3)]: { type: 'Integer', value: -2 },
    [SUPPLY(9, 3)]: { type: 'Integer', value: -3 },
    [COLORANT(1)]: { type: 'OctetString', value: 'black' },
    [COLORANT(2)]: { type: 'OctetString', value: 'cyan' },
    [LIFE_COUNT]: { type: 'Counter32', value: 12_345 },
  };
}

const agents: TestAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});
async function printer(values: Record<string, AgentValue> = printerValues()): Promise<TestAgent> {
  const a = await startAgent({ community: 'public', values });
  agents.push(a);
  return a;
}

describe('printer probe kind', () => {
  it('reports status, supplies, colours and page count of a healthy printer', async () => {
    const a = await printer();
    const r = await runKind(printerKind, { host: a.host, port: a.port });
    expect(r.status).toBe('ok');
    expect(r.message).toBe(`127.0.0.1:${a.port}: printer idle, device running, lowest supply 45%, 12345 pages`);
    expect(r.values).toMatchObject({
      printerStatus: 'idle',
      deviceStatus: 'running',
      conditions: '',
      jammed: false,
      lowToner: false,
      overduePreventMaint: false,
      // The nearly empty waste toner box (3 %) is a receptacle: it does not count as low toner.
      tonerPercent: 45,
      supplies: 3,
      'supply.1.description': 'Black Toner Cartridge',
      'supply.1.percent': 45,
      'supply.1.color': 'black',
      'supply.2.percent': 3,
      'supply.3.state': 'someRemaining',
      'supply.3.color': 'cyan',
      pageCount: 12_345,
    });
    expect(r.values['supply.3.percent']).toBeUndefined();
  });

  it('follows the toner down, fails on the lowToner bit, and recovers when a cartridge goes in', async () => {
    const a = await printer();
    const spec = { host: a.host, port: a.port };
    a.set(SUPPLY(9, 1), 50);
    const low = await runKind(printerKind, spec);
    expect(low.status).toBe('ok'); // the level alone is for rules: values.tonerPercent < 10.0
    expect(low.values.tonerPercent).toBe(5);

    a.set(HR_ERROR_STATE, Buffer.from([0x20, 0x00]));
    a.set(HR_DEVICE_STATUS, 3); // warning
    const flagged = await runKind(printerKind, spec);
    expect(flagged.status).toBe('fail');
    expect(flagged.message).toContain(': lowToner (printer idle, device warning, lowest supply 5%');
    expect(flagged.values).toMatchObject({ conditions: 'lowToner', lowToner: true, noToner: false });

    a.setAll({ [SUPPLY(9, 1)]: { type: 'Integer', value: 1000 }, [HR_ERROR_STATE]: { type: 'OctetString', value: Buffer.from([0, 0]) } });
    a.set(HR_DEVICE_STATUS, 2);
    const fresh = await runKind(printerKind, spec);
    expect(fresh.status).toBe('ok');
    expect(fresh.values.tonerPercent).toBe(100);
  });

  it('fails while a jam and an open door last, and is ok once they clear', async () => {
    const a = await printer();
    const spec = { host: a.host, port: a.port };
    a.set(HR_ERROR_STATE, Buffer.from([0x0c])); // doorOpen (bit 4) + jammed (bit 5)
    a.set(HR_PRINTER_STATUS, 1);
    const jam = await runKind(printerKind, spec);
    expect(jam.status).toBe('fail');
    expect(jam.message).toContain(`127.0.0.1:${a.port}: doorOpen, jammed (printer other`);
    expect(jam.values).toMatchObject({ conditions: 'doorOpen,jammed', jammed: true, doorOpen: true, printerStatus: 'other' });

    a.set(HR_ERROR_STATE, Buffer.from([0x00]));
    a.set(HR_PRINTER_STATUS, 4);
    const cleared = await runKind(printerKind, spec);
    expect(cleared.status).toBe('ok');
    expect(cleared.values).toMatchObject({ conditions: '', jammed: false, printerStatus: 'printing' });
  });

  it('fails when the device is down even with no error bit set', async () => {
    const a = await printer();
    a.set(HR_DEVICE_STATUS, 5);
    const r = await runKind(printerKind, { host: a.host, port: a.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('device status down with no error bit set');
  });

  it('decodes every hrPrinterDetectedErrorState bit, most significant bit of the first octet first', () => {
    expect(decodePrinterErrors(Buffer.from([0x80]))).toEqual(['lowPaper']);
    expect(decodePrinterErrors(Buffer.from([0x40]))).toEqual(['noPaper']);
    expect(decodePrinterErrors(Buffer.from([0x10]))).toEqual(['noToner']);
    expect(decodePrinterErrors(Buffer.from([0x02]))).toEqual(['offline']);
    expect(decodePrinterErrors(Buffer.from([0x01]))).toEqual(['serviceRequested']);
    expect(decodePrinterErrors(Buffer.from([0x00, 0x80]))).toEqual(['inputTrayMissing']);
    expect(decodePrinterErrors(Buffer.from([0x00, 0x40]))).toEqual(['outputTrayMissing']);
    expect(decodePrinterErrors(Buffer.from([0x00, 0x20]))).toEqual(['markerSupplyMissing']);
    expect(decodePrinterErrors(Buffer.from([0x00, 0x10]))).toEqual(['outputNearFull']);
    expect(decodePrinterErrors(Buffer.from([0x00, 0x08]))).toEqual(['outputFull']);
    expect(decodePrinterErrors(Buffer.from([0x00, 0x04]))).toEqual(['inputTrayEmpty']);
    expect(decodePrinterErrors(Buffer.from([0x00, 0x02]))).toEqual(['overduePreventMaint']);
    expect(decodePrinterErrors(Buffer.from([0xff, 0xfe]))).toHaveLength(15);
    // Many printers send one octet; the second one's conditions are then simply absent.
    expect(decodePrinterErrors(Buffer.alloc(0))).toEqual([]);
  });

  it('reads supply levels per RFC 3805, special values included', () => {
    expect(supplyPercent(450, 1000)).toEqual({ percent: 45, state: 'measured' });
    expect(supplyPercent(1200, 1000)).toEqual({ percent: 100, state: 'measured' });
    expect(supplyPercent(-1, 1000)).toEqual({ state: 'unlimited' });
    expect(supplyPercent(-2, 1000)).toEqual({ state: 'unknown' });
    expect(supplyPercent(-3, -2)).toEqual({ state: 'someRemaining' });
    expect(supplyPercent(40, -2)).toEqual({ state: 'unknown' });
  });

  it('fails with a clear message when the agent sends unexpected types', async () => {
    const a = await printer();
    a.set(HR_ERROR_STATE, { type: 'Integer', value: 4 });
    const r = await runKind(printerKind, { host: a.host, port: a.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain(`hrPrinterDetectedErrorState (${HR_ERROR_STATE}) is Integer, expected an OCTET STRING bit field`);

    a.set(HR_ERROR_STATE, { type: 'OctetString', value: Buffer.from([0]) });
    a.set(SUPPLY(9, 1), { type: 'OctetString', value: 'half full' });
    const level = await runKind(printerKind, { host: a.host, port: a.port });
    expect(level.status).toBe('fail');
    expect(level.message).toContain(`prtMarkerSuppliesLevel (${SUPPLY(9, 1)}) is OctetString, expected an integer`);
  });

  it('fails when the agent has no printer, or not the one asked for', async () => {
    const a = await printer({ '1.3.6.1.2.1.1.5.0': { type: 'OctetString', value: 'a switch' } });
    const none = await runKind(printerKind, { host: a.host, port: a.port });
    expect(none.status).toBe('fail');
    expect(none.message).toContain('no printer in HOST-RESOURCES-MIB hrPrinterTable');

    const b = await printer();
    const other = await runKind(printerKind, { host: b.host, port: b.port, device_index: 2 });
    expect(other.status).toBe('fail');
    expect(other.message).toContain('no printer with hrDeviceIndex 2; printers on this agent: 1');
  });

  it('fails with "wrong community or host down?" when the printer ignores the community', async () => {
    const a = await printer();
    const r = await runKind(printerKind, { host: a.host, port: a.port, community: 'private' }, 300);
    expect(r.status).toBe('fail');
    expect(r.message).toContain('(wrong community or host down?)');
  });

  it('rejects bad fields in its schema', () => {
    expect(printerKind.schema.safeParse({ host: 'p1' }).success).toBe(true);
    expect(printerKind.schema.safeParse({ host: 'p1', device_index: 0 }).success).toBe(false);
    expect(printerKind.schema.safeParse({ host: 'p1', port: -1 }).success).toBe(false);
    expect(printerKind.schema.safeParse({ host: 'p1', version: '3' }).success).toBe(false);
    expect(printerKind.schema.safeParse({ host: 'p1', toner_oid: '1.3.6' }).success).toBe(false);
    expect(printerKind.defaultName(printerKind.schema.parse({ host: 'p1' }) as never)).toBe('printer:p1');
  });
});
