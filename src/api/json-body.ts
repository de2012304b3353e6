import type { FastifyInstance } from 'fastify';

/**
 * Makes JSON the only body a fastify context takes (anything else is a 415). Fastify's own JSON
 * parser hides the parse error; this one hands the parser's message to `invalid`, which builds
 * the caller's own 400 error. An empty body means "no body".
 */
export function acceptJsonOnly(app: FastifyInstance, invalid: (message: string) => Error): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(invalid(`is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}
