import { describe, expect, it } from 'vitest';
import { NetworkMonitor, established } from '../../sim/host/network.ts';
import type { SimEvent } from '../../sim/core/events.ts';
import type { MqttFace, MqttStats } from '../../sim/protocols/mqtt/face.ts';

/** A face's counters as `stats()` reports them, advanced by the test. */
function fakeMqtt(): { face: MqttFace; stats: MqttStats } {
  const stats: MqttStats = {
    uns: { published: 0, queued: 0, dropped: 0, peak: 0, connects: 1 },
    sparkplug: { published: 0, queued: 0, dropped: 0, peak: 0, connects: 1, bdSeq: 0, rebirths: 0 },
    commands: 0,
    refused: 0,
  };
  const face: MqttFace = {
    url: 'mqtt://127.0.0.1:1', wsUrl: null, tlsUrl: null, tlsCert: null, prefix: 'p', group: 'g', edge: 'e', fellBackFrom: { tcp: null, ws: null, tls: null }, notes: [],
    stats: () => structuredClone(stats), disconnect: () => [], close: async () => undefined,
  };
  return { face, stats };
}

let seq = 0;
const ev = (type: SimEvent['type'], station: string | null, data: SimEvent['data']): SimEvent => ({ seq: seq++, tick: 0, type, station, data });

describe('NetworkMonitor', () => {
  it('turns counters and drained events into rates per face and link, and flags rejections for 10 s', () => {
    let now = 0;
    const { face, stats } = fakeMqtt();
    const mon = new NetworkMonitor({
      stations: ['press', 'kiln'], http: () => 'http://127.0.0.1:2/', opcua: () => 'opc.tcp://127.0.0.1:3', mqtt: () => ({ face, embedded: false }), now: () => now,
    });
    try {
      now = 5000;
      stats.uns!.published = 400;
      stats.sparkplug!.published = 100;
      for (let k = 0; k < 10; k++) mon.request();
      mon.onEvents([
        ev('command', 'kiln', { command: 'set', source: 'opcua', principal: 'op' }),
        ev('command', 'kiln', { command: 'stop', source: 'opcua', principal: 'op' }),
        ev('rejected', 'press', { command: 'start', source: 'mqtt', principal: 'x', code: 'BAD_STATE', reason: '' }),
        ev('kpi', null, { oee: 1 }),
      ]);
      const r = mon.report();
      const f = (id: string): Record<string, unknown> => r.faces.find((x) => x.id === id) as unknown as Record<string, unknown>;
      // the first sample was taken at t=0: 500 messages over 5 s
      expect(f('mqtt')).toMatchObject({ rate: 100, rates: { published: 100, uns: 80, sparkplug: 20 }, broker: 'external', clients: null, ownClients: 2, unusual: true, rejected: 1 });
      expect(f('opcua')).toMatchObject({ rates: { writes: 0.2, calls: 0.2, audit: 0 }, unusual: false });
      expect(f('api')).toMatchObject({ rates: { requests: 2, pushed: 0, commands: 0 }, endpoint: 'http://127.0.0.1:2/api/', unusual: false });
      expect(r.links).toContainEqual({ station: 'kiln', face: 'opcua', rate: 0.4, rejected: 0, unusual: false, attack: false });
      expect(r.links).toContainEqual({ station: 'press', face: 'mqtt', rate: 0.2, rejected: 1, unusual: true, attack: false });
      expect(r.links).toContainEqual({ station: 'press', face: 'opcua', rate: 0, rejected: 0, unusual: false, attack: false });
      // a refused login is unusual for its face; 10 s after the last drain nothing is
      mon.onEvents([ev('audit', null, { action: 'login', outcome: 'denied', source: 'opcua', principal: 'x@opcua', target: '', reason: '' })]);
      expect(mon.report().faces.find((x) => x.id === 'opcua')?.unusual).toBe(true);
      now = 16_000;
      mon.onEvents([]);
      expect(mon.report().faces.every((x) => !x.unusual)).toBe(true);
      expect(mon.report().links.every((l) => !l.unusual && l.rate === 0)).toBe(true);
    } finally {
      mon.close();
    }
  });

  it('marks the range\'s attack: its face while it runs, what reached a station through it, its principals; not the observer; for 10 s after', () => {
    let now = 0;
    const mon = new NetworkMonitor({ stations: ['press', 'kiln'], http: () => 'http://127.0.0.1:2/', opcua: () => 'opc.tcp://127.0.0.1:3', mqtt: () => null, now: () => now });
    try {
      expect(mon.report().attack).toBeNull();
      now = 1000;
      mon.attackStarted({ id: 'opcua-stop', title: 'OPC UA stop', face: 'opcua', station: 'kiln', observer: 'instructor@' });
      let r = mon.report();
      expect(r.attack).toEqual({ id: 'opcua-stop', title: 'OPC UA stop', face: 'opcua', station: 'kiln', running: true, principals: [] });
      expect(r.faces.map((f) => [f.id, f.attack])).toEqual([['api', false], ['opcua', true]]);
      expect(r.links.some((l) => l.attack)).toBe(false);
      // accepted commands (no refusal: the open profile) are the attack's; the observer's REST commands and other faces are not
      now = 2000;
      mon.onEvents([
        ev('audit', null, { action: 'session', outcome: 'allowed', source: 'opcua', principal: 'anonymous@ns=1;i=5@127.0.0.1:40000', target: '', reason: '' }),
        ev('command', 'kiln', { command: 'stop', source: 'opcua', principal: 'anonymous@ns=1;i=5' }),
        ev('command', 'kiln', { command: 'start', source: 'api', principal: 'instructor@127.0.0.1' }),
      ]);
      r = mon.report();
      expect(r.links.filter((l) => l.attack).map((l) => `${l.station}~${l.face}`)).toEqual(['kiln~opcua']);
      expect(r.faces.find((f) => f.id === 'opcua')).toMatchObject({ attack: true, unusual: false });
      expect(r.attack?.principals).toEqual(['anonymous@ns=1;i=5@127.0.0.1:40000', 'anonymous@ns=1;i=5']);
      now = 3000;
      mon.attackEnded();
      // after the run (and its last drain), a new client of the face is no longer the attack's
      now = 6000;
      mon.onEvents([ev('command', 'press', { command: 'stop', source: 'opcua', principal: 'op' })]);
      r = mon.report();
      expect(r.attack).toMatchObject({ id: 'opcua-stop', running: false });
      expect(r.links.find((l) => l.station === 'press' && l.face === 'opcua')?.attack).toBe(false);
      expect(r.faces.find((f) => f.id === 'opcua')?.attack).toBe(true);
      now = 13_500;
      mon.onEvents([]);
      r = mon.report();
      expect(r.attack).toBeNull();
      expect(r.faces.some((f) => f.attack) || r.links.some((l) => l.attack)).toBe(false);
    } finally {
      mon.close();
    }
  });

  it('counts established TCP connections to a listening port', async () => {
    const { createServer, connect } = await import('node:net');
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const before = established(port);
    if (before === null) return; // no /proc/net/tcp on this OS
    const socks = await Promise.all([0, 1].map(() => new Promise<ReturnType<typeof connect>>((r) => { const s = connect(port, '127.0.0.1', () => r(s)); })));
    await new Promise((r) => setTimeout(r, 50));
    expect(established(port)).toBe(before + 2);
    for (const s of socks) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
