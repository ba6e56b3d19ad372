/**
 * Listening on the standard ports without surprises: a default port that is taken falls back
 * to a free one (and says so); a port the user asked for that is taken is an error naming the
 * port and the flag.
 */
import type { Server } from 'node:net';
import { TwinlineError } from '../core/errors.ts';

/** Where a server ended up listening. */
export interface Bound {
  port: number;
  /** set when the default port was taken and a free one was used instead */
  fellBackFrom: number | null;
}

function listenOnce(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Listens on `port` at `host`. `explicit` means the user chose the port with `flag`: then a
 * taken port is an error; otherwise the server falls back to a free port.
 */
export async function listen(server: Server, port: number, host: string, explicit: boolean, flag: string): Promise<Bound> {
  try {
    return { port: await listenOnce(server, port, host), fellBackFrom: null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
    if (explicit) {
      throw new TwinlineError('USAGE', `port ${port} given with ${flag} is ${code === 'EACCES' ? 'not allowed' : 'already in use'}`, { endpoint: `${host}:${port}` });
    }
    return { port: await listenOnce(server, 0, host), fellBackFrom: port };
  }
}
