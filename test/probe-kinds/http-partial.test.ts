// An HTTP check that got no response read nothing: its result is partial, so the incidents of
// conditions it could not see (a certificate about to expire) stay as they are (issue 13).
import { describe, expect, it } from 'vitest';
import { httpKind } from '../../src/probe-kinds/http.js';
import { closedPort, httpServer, runKind } from './helpers.js';

describe('http: no response is not a reading', () => {
  it('marks a refused connection partial and not answered; a response (even a 500) is a full reading', async () => {
    const refused = await runKind(httpKind, { url: `http://127.0.0.1:${await closedPort()}/` });
    expect(refused).toMatchObject({ status: 'fail', partial: true, values: { answered: false } });

    const srv = await httpServer((_req, res) => {
      res.statusCode = 500;
      res.end('broken');
    });
    try {
      const answered = await runKind(httpKind, { url: `http://127.0.0.1:${srv.port}/` });
      expect(answered.status).toBe('fail');
      expect(answered.partial).toBeUndefined();
      expect(answered.values).toMatchObject({ status: 500, answered: true });
    } finally {
      await srv.close();
    }
  });
});
