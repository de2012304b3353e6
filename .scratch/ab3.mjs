const { targetSchemaForLoading: T, checkCommonSchema: C } = await import('../dist/src/config/probe-schemas.js');
const { probeKinds } = await import('../dist/src/probe-kinds/registry.js');
import { z } from 'zod';
for (const [name, s] of [['target', T], ['checkCommon', C], ...[...probeKinds].map(([k, v]) => [k, v.schema])]) {
  try { z.compile(s, { strict: true }); console.log(name, 'compiles'); } catch (e) { console.log(name, 'NO:', e.message.slice(0, 150)); }
}
const N = 15000;
const mk = (_, i) => ({ id: `t${i}`, site: `site-${i % 50}`, labels: { customer: `c${i % 20}` }, checks: [{ type: 'tcp', host: '127.0.0.1', port: 9 }] });
const which = process.argv[2] ?? 'both';
function time(label, schema) { const res=[]; for (let r = 0; r < 3; r++) { const data = Array.from({ length: N }, mk); const t = performance.now(); for (const d of data) schema.safeParse(d, { reportInput: true, error: () => 'x' }); res.push((performance.now() - t).toFixed(0)); } console.log(label, res.join(' ')); }
if (which === 'zod') time('zod', T);
if (which === 'compiled') { const t=performance.now(); const TC = z.compile(T); console.log('compile', (performance.now()-t).toFixed(1)); time('compiled', TC); }
