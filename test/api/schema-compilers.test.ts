// The API's Fastify loads its JSON-schema compilers (ajv, fast-json-stringify) only when a route
// declares a schema; such a route still validates its input and serializes its output.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from '../../src/api/server.js';

describe('lazily loaded schema compilers', () => {
  it('validate a body and serialize a response as fastify would', async () => {
    const app = Fastify({ logger: false, schemaController: { compilersFactory: lazySchemaCompilers } });
    app.post(
      '/echo',
      {
        schema: {
          body: { type: 'object', required: ['n'], properties: { n: { type: 'integer', minimum: 1 } } },
          response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
        },
      },
      async (request) => ({ n: (request.body as { n: number }).n, secret: 'not in the schema' }),
    );
    try {
      const bad = await app.inject({ method: 'POST', url: '/echo', payload: { n: 0 } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ message: 'body/n must be >= 1' });
      const ok = await app.inject({ method: 'POST', url: '/echo', payload: { n: 3 } });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toBe('{"n":3}');
    } finally {
      await app.close();
    }
  });
});
