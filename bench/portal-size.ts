// npm run bench:portal-size: what a browser downloads on the portal's first load (index.html and
// the scripts and stylesheets it links), compressed as the daemon sends it (brotli, else gzip).
// The budget is 300 kB; over it, the command fails.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const ROOT = resolve(import.meta.dirname, '..');
const PORTAL = join(ROOT, 'dist', 'portal');
const BUDGET = 300 * 1024;

const index = readFileSync(join(PORTAL, 'index.html'), 'utf8');
// Everything index.html loads on first paint: module scripts, preloads and stylesheets.
const linked = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
const files = ['index.html', ...new Set(linked.map((p) => p.slice(1)))];

let raw = 0;
let gzip = 0;
let brotli = 0;
const rows: string[] = [];
for (const file of files) {
  const data = readFileSync(join(PORTAL, file));
  const gz = gzipSync(data, { level: 9 }).length;
  const br = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  raw += data.length;
  gzip += gz;
  brotli += br;
  rows.push(`${file.padEnd(40)} ${String(data.length).padStart(8)} ${String(gz).padStart(8)} ${String(br).padStart(8)}`);
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
console.log(`${'file'.padEnd(40)} ${'bytes'.padStart(8)} ${'gzip'.padStart(8)} ${'brotli'.padStart(8)}`);
for (const r of rows) console.log(r);
console.log(`first load: ${kb(raw)} raw, ${kb(gzip)} gzip, ${kb(brotli)} brotli (budget ${kb(BUDGET)} compressed)`);
if (gzip > BUDGET) {
  console.error(`the portal's first load is ${kb(gzip)} gzip-compressed, over the ${kb(BUDGET)} budget`);
  process.exit(1);
}
