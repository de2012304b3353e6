// Summarizes a V8 heap snapshot (.heapsnapshot, as written by --heapsnapshot-signal or
// v8.writeHeapSnapshot) by constructor: the total self size and count of the nodes of each name,
// largest first. Self sizes only: what an object holds through references is counted at the
// referenced objects, so the rows add up to the heap.
//   npx tsx bench/memory/heap-summary.ts FILE [rows]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapRow {
  name: string;
  selfBytes: number;
  count: number;
}

export function summarizeHeapSnapshot(file: string, rows: number): HeapRow[] {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const fType = fields.indexOf('type');
  const fName = fields.indexOf('name');
  const fSize = fields.indexOf('self_size');
  const byName = new Map<string, HeapRow>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + fType]!]!;
    // Objects by constructor; strings, code, arrays and the rest by their type.
    const name = type === 'object' || type === 'closure' ? `${type === 'closure' ? 'closure ' : ''}${snap.strings[snap.nodes[i + fName]!]}` : `(${type})`;
    const row = byName.get(name) ?? { name, selfBytes: 0, count: 0 };
    row.selfBytes += snap.nodes[i + fSize]!;
    row.count++;
    byName.set(name, row);
  }
  return [...byName.values()].sort((a, b) => b.selfBytes - a.selfBytes).slice(0, rows);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: npx tsx bench/memory/heap-summary.ts FILE [rows]');
    process.exit(2);
  }
  let total = 0;
  for (const row of summarizeHeapSnapshot(file, Number(process.argv[3] ?? 40))) {
    total += row.selfBytes;
    console.log(`${(row.selfBytes / 1024 / 1024).toFixed(1).padStart(8)} MB ${String(row.count).padStart(9)}  ${row.name}`);
  }
  console.log(`${(total / 1024 / 1024).toFixed(1).padStart(8)} MB in these rows`);
}
