// axios is loaded with the fetch API out of sight (src/shared/axios.ts): the globals must come back
// exactly as they were, and requests must still work through its http adapter.
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadAxios } from '../../src/shared/axios.js';

const NAMES = ['fetch', 'Request', 'Response', 'FormData', 'ReadableStream'] as const;

describe('loadAxios', () => {
  it('leaves the fetch API globals as they were and sends requests with the http adapter', async () => {
    const before = NAMES.map((n) => Object.getOwnPropertyDescriptor(globalThis, n));
    const axios = await loadAxios();
    expect(NAMES.map((n) => Object.getOwnPropertyDescriptor(globalThis, n))).toEqual(before);
    expect(typeof fetch).toBe('function');
    expect(await loadAxios()).toBe(axios);

    const server = createServer((req, res) => res.end(`${req.method} ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const res = await axios.post(`http://127.0.0.1:${port}/x`, { a: 1 }, { responseType: 'text' });
      expect(res.status).toBe(200);
      expect(res.data).toBe('POST /x');
      // FormData is still recognised (by its type tag), should a body ever be one.
      expect(axios.isAxiosError(new Error('x'))).toBe(false);
      expect(axios.toFormData({ a: '1' }, new FormData())).toBeInstanceOf(FormData);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
