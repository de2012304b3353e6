// The start-up stack on its own: reverse-order rollback, the failing step's error raised, and an
// error while rolling back logged beside it instead of replacing it.
import { describe, expect, it } from 'vitest';
import { StartSteps } from '../../src/app/startup.js';
import type { Logger } from '../../src/shared/logger.js';

function recorder(): { logger: Logger; errors: { obj: object; msg: string }[] } {
  const errors: { obj: object; msg: string }[] = [];
  const logger: Logger = {
    info: () => undefined,
    warn: () => undefined,
    debug: () => undefined,
    error: (obj, msg) => errors.push({ obj: typeof obj === 'string' ? {} : obj, msg: typeof obj === 'string' ? obj : (msg ?? '') }),
    child: () => logger,
  };
  return { logger, errors };
}

describe('StartSteps', () => {
  it('on a failing step stops the earlier ones last-first, raises the step error, and logs a stop that failed', async () => {
    const { logger, errors } = recorder();
    const steps = new StartSteps(logger);
    const stopped: string[] = [];
    await steps.run('a', () => ({ value: 1, stop: () => void stopped.push('a') }));
    await steps.run('b', () => ({
      value: 2,
      stop: () => {
        stopped.push('b');
        throw new Error('b would not stop');
      },
    }));
    await steps.run('nothing to stop', () => ({ value: 3, stop: null }));
    await steps.run('c', () => ({ value: 4, stop: async () => void stopped.push('c') }));
    const portTaken = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    await expect(
      steps.run('d', () => {
        throw portTaken;
      }),
    ).rejects.toBe(portTaken);
    expect(stopped).toEqual(['c', 'b', 'a']);
    expect(errors).toEqual([{ obj: { step: 'b', err: new Error('b would not stop') }, msg: expect.stringContaining('stopping a start-up step failed') }]);
    expect(steps.running()).toEqual([]);
  });

  it('stopAll runs each stop once, however often it is called', async () => {
    const steps = new StartSteps(recorder().logger);
    let stops = 0;
    await steps.run('a', () => ({ value: null, stop: () => void stops++ }));
    await Promise.all([steps.stopAll(), steps.stopAll()]);
    await steps.stopAll();
    expect(stops).toBe(1);
  });
});
