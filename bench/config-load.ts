// Loads generated inventories of 1, 2, 10 and 50 MB the way `incidentd validate` and a reload do,
// each in a fresh process, and prints the wall time, the peak resident memory of that process and
// the longest event-loop delay of the loading thread (probes and the API run there in the daemon).
// Targets (issue 12): the 10 MB inventory in under 10 s and 500 MB.
//   npm run bench:config               (1, 2, 10, 50 MB)
//   npm run bench:config -- 10         (one size, in MB)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { inventoryOfSize } from './inventory.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function child(dir: string): Promise<void> {
  const { loadConfig } = await import('../src/config/load.js');
  // The longest the event loop of this (the daemon's) thread was held while the files loaded.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  let outcome: string;
  try {
    const cfg = await loadConfig(
      { config: path.join(dir, 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') },
      {},
    );
    outcome = `${cfg.targets.length} targets`;
  } catch (err) {
    outcome = (err as Error).message.split('\n').slice(0, 2).join(' ');
  }
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  const maxDelayMs = delay.max / 1e6;
  // ru_maxrss is in kB on Linux: the peak of the whole process, worker thread included.
  const peakMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ seconds, peakMb, maxDelayMs, outcome }));
}

function main(): void {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  console.log('size     targets   load s   peak RSS MB   max event-loop delay ms   result');
  for (const mb of sizes.length > 0 ? sizes : [1, 2, 10, 50]) {
    const dir = mkdtempSync(path.join(tmpdir(), 'incidentd-bench-config-'));
    try {
      mkdirSync(path.join(dir, 'probes'));
      mkdirSync(path.join(dir, 'rules'));
      // A limit above the largest size, so that 50 MB is loaded rather than refused.
      writeFileSync(path.join(dir, 'incidentd.yaml'), 'config:\n  max_file_bytes: 100000000\n');
      writeFileSync(path.join(dir, 'rules', 'none.yaml'), 'rules: []\n');
      const { text, targets } = inventoryOfSize(mb * 1_000_000);
      writeFileSync(path.join(dir, 'probes', 'inventory.yaml'), text);
      let line: string;
      try {
        const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'config-load.ts'), '--child', dir], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: '--max-old-space-size=4096' },
          encoding: 'utf8',
          timeout: 600_000,
        });
        const r = JSON.parse(out) as { seconds: number; peakMb: number; maxDelayMs: number; outcome: string };
        line = `${r.seconds.toFixed(1).padStart(7)}   ${r.peakMb.toFixed(0).padStart(11)}   ${r.maxDelayMs.toFixed(0).padStart(23)}   ${r.outcome}`;
      } catch (err) {
        line = `      -             -   did not finish: ${(err as Error).message.split('\n')[0]}`;
      }
      console.log(`${`${mb} MB`.padEnd(7)}  ${String(targets).padStart(7)}  ${line}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--child') await child(process.argv[3]!);
  else main();
}
