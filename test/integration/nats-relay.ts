/**
 * A TCP relay between NATS clients and a real nats-server that loses publishes on purpose: what
 * a leader change, a broken connection or a partition does to a message in flight, made
 * deterministic. The server's side passes as it is; the client's is cut into protocol
 * operations (`PUB`/`HPUB` with their payloads) and each publish is forwarded unless `drop`
 * says otherwise.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface NatsRelay {
  /** `nats://127.0.0.1:PORT` of the relay */
  url: string;
  /** publishes dropped so far */
  dropped(): number;
  close(): Promise<void>;
}

/** A relay to `target` (`nats://host:port`) on a free loopback port; `drop(frame)` is asked for every PUB/HPUB (the whole operation, payload included). */
export async function natsRelay(target: string, drop: (frame: Buffer) => boolean): Promise<NatsRelay> {
  const to = new URL(target);
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ port: Number(to.port), host: to.hostname });
    sockets.add(client).add(upstream);
    upstream.pipe(client);
    let buf = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.subarray(0, eol).toString('latin1').trim();
        const op = line.split(/\s+/, 1)[0]!.toUpperCase();
        const publish = op === 'PUB' || op === 'HPUB';
        // a publish's last field is its payload's size (headers included for HPUB), then CRLF
        const len = eol + 2 + (publish ? Number(line.split(/\s+/).at(-1)) + 2 : 0);
        if (buf.length < len) return;
        const frame = buf.subarray(0, len);
        buf = buf.subarray(len);
        if (publish && drop(frame)) dropped++;
        else upstream.write(frame);
      }
    });
    const end = (): void => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return {
    url: `nats://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`,
    dropped: () => dropped,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
