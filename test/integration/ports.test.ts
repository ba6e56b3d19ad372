import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { listen } from '../../sim/host/ports.ts';
import { TwinlineError } from '../../sim/core/errors.ts';

const open: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => new Promise((r) => s.close(r))));
});
function server(): Server {
  const s = createServer();
  open.push(s);
  return s;
}

describe('listening on standard ports', () => {
  it('falls back to a free port when the default one is taken, and says so', async () => {
    const taken = await listen(server(), 0, '127.0.0.1', true, '--http-port');
    const bound = await listen(server(), taken.port, '127.0.0.1', false, '--http-port');
    expect(bound.fellBackFrom).toBe(taken.port);
    expect(bound.port).not.toBe(taken.port);
    expect(bound.port).toBeGreaterThan(0);
  });

  it('refuses a taken port the user asked for, naming the port and the flag', async () => {
    const taken = await listen(server(), 0, '127.0.0.1', true, '--http-port');
    const err = await listen(server(), taken.port, '127.0.0.1', true, '--http-port').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TwinlineError);
    expect((err as TwinlineError).message).toBe(`port ${taken.port} given with --http-port is already in use`);
  });
});
