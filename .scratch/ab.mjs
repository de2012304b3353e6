import { z } from 'zod';
const N = 15000;
function time(label, schema, mk) { const res=[]; for (let r = 0; r < 3; r++) { const data = Array.from({ length: N }, mk); const t = performance.now(); for (const d of data) schema.safeParse(d); res.push((performance.now() - t).toFixed(0)); } console.log(label, res.join(' ')); }
time('array unknown, 1 obj', z.array(z.unknown()), () => [{ type: 'tcp', host: 'x' }]);
time('array unknown, 1 num', z.array(z.unknown()), () => [1]);
time('array string, 1', z.array(z.string()), () => ['a']);
time('array unknown, 0', z.array(z.unknown()), () => []);
time('obj with checks array', z.strictObject({ id: z.string(), checks: z.array(z.unknown()).default([]) }), (_, i) => ({ id: 'x' + i, checks: [{ type: 'tcp' }] }));
