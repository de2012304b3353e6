// The daemon refuses a configuration with any error, the same errors `validate` lists: at start
// (run) nothing starts, and on reload it keeps running with the last good configuration.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { ConfigError } from '../../src/shared/errors.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { FIXTURES } from '../config/helpers.js';

let dir: string;
let app: App | null = null;

const paths = () => ({ config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') });
const store = () => `store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }\n`;

function writeGood(): void {
  writeFileSync(paths().config, `listen: { host: 127.0.0.1, port: 9740 }\n${store()}`);
  writeFileSync(join(dir, 'probes', 'broken.yaml'), 'targets:\n  - id: web\n    checks:\n      - { type: tcp, host: 192.0.2.10, port: 80 }\n');
}

/** The multiply broken fixture of test/config, with this test's store. */
function writeBroken(): void {
  writeFileSync(paths().config, readFileSync(join(FIXTURES, 'multi-broken', 'incidentd.yaml'), 'utf8') + store());
  copyFileSync(join(FIXTURES, 'multi-broken', 'probes', 'broken.yaml'), join(dir, 'probes', 'broken.yaml'));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-refuse-'));
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  copyFileSync(join(FIXTURES, 'ok', 'rules', 'ok.yaml'), join(dir, 'rules', 'ok.yaml'));
});

afterEach(async () => {
  await app?.stop();
  app = null;
  rmSync(dir, { recursive: true, force: true });
});

const start = () => createApp({ paths: paths(), clock: new SystemClock(), logger: silentLogger(), env: {}, watch: false, port: 0 });

describe('a configuration with errors is refused by run and by reload', () => {
  it('run: the start fails with every problem', async () => {
    writeBroken();
    const err = await start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toHaveLength(7);
  });

  it('reload: refused with every problem; the last good targets, channels and API keep running', async () => {
    writeGood();
    app = await start();
    writeBroken();
    const refused = await app.reload();
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused!.issues.map((i) => i.message)).toEqual([
      expect.stringMatching(/^folder not found: .*mail-templates/),
      expect.stringMatching(/^file not found: .*tickets-ca\.pem/),
      'expected one of "L1", "L2", "L3" or null, got the string "L4"',
      'expected a number or a list, got the string "200" (write the number without quotes: 200)',
      expect.stringMatching(/^duplicate target id "db"/),
      'timeout 30s must be shorter than the interval 10s',
      'depends_on names unknown target "swtich-floor2" (did you mean "switch-floor2"?)',
    ]);
    expect(app.config().targets.map((t) => t.id)).toEqual(['web']);
    expect(app.config().daemon.channels).toEqual([]);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);

    // Fixed again, the next reload takes it.
    writeGood();
    expect(await app.reload()).toBeNull();
  });
});
