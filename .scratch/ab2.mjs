const { targetSchemaForLoading: T } = await import('../dist/src/config/probe-schemas.js');
import { z } from 'zod';
const N = 15000;
const mk = (_, i) => ({ id: `t${i}`, site: `site-${i % 50}`, labels: { customer: `c${i % 20}` }, checks: [{ type: 'tcp', host: '127.0.0.1', port: 9 }] });
function time(label, schema) { const res=[]; for (let r = 0; r < 3; r++) { const data = Array.from({ length: N }, mk); const t = performance.now(); for (const d of data) schema.safeParse(d, { reportInput: true, error: () => 'x' }); res.push((performance.now() - t).toFixed(0)); } console.log(label, res.join(' ')); }
const which = process.argv[2];
if (which === 'full') time('full', T);
if (which === 'nodeps') time('no depends_on', T.extend({ depends_on: z.unknown() }));
if (which === 'notrap') time('no trap_sources', T.extend({ trap_sources: z.unknown() }));
if (which === 'nochecks') time('no checks', T.extend({ checks: z.unknown() }));
if (which === 'noarrays') time('no arrays', T.extend({ checks: z.unknown(), trap_sources: z.unknown(), depends_on: z.unknown() }));
if (which === 'nolabels') time('no labels', T.extend({ labels: z.unknown() }));
if (which === 'noid') time('no id regex', T.extend({ id: z.string() }));
