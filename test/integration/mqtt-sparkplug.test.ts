/**
 * Sparkplug B against a Mosquitto started by the test: NBIRTH/DBIRTH/DDATA decoded with
 * Eclipse Tahu's sparkplug-payload, seq wrapping mod 256, rebirth on NCMD, DCMD writes and
 * PackML commands through the line's queue, garbage refused and logged, NDEATH on loss.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sparkplug from 'sparkplug-payload';
import type { UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import { AccountStore } from '../../sim/host/accounts.ts';
import { have, MOSQUITTO, NATS, recorder, startMosquitto, startNats, type Got, type TestBroker } from './brokers.ts';
import { isAudit, startTwin, type Twin } from './mqtt-harness.ts';

const SP = sparkplug.get('spBv1.0')!;
const BASE = 'spBv1.0/test';
const dec = (g: Got): UPayload => SP.decodePayload(g.payload);
const n = (v: unknown): number => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());

describe.runIf(have(MOSQUITTO))('Sparkplug B over Mosquitto', () => {
  let broker: TestBroker;
  let twin: Twin;
  let closed = false;
  beforeAll(async () => {
    broker = await startMosquitto();
    // DCMD writes a parameter: commands through this broker act as an engineer
    twin = await startTwin({ encoding: 'sparkplug', url: broker.url, intervalMs: 20, externalRole: 'engineer' });
  }, 30_000);
  afterAll(async () => {
    if (!closed) await twin?.close();
    await broker?.dispose();
  });

  it('births, data by alias, seq mod 256, rebirth on NCMD, commands through DCMD', async () => {
    const sub = await recorder(broker.url);
    await new Promise<void>((r) => sub.client.subscribe(`${BASE}/#`, { qos: 0 }, () => r()));
    // once the node is up (on a slow machine it may connect after this subscriber), ask for a
    // rebirth so this subscriber sees births
    await sub.wait((g) => g.topic.startsWith(`${BASE}/DDATA/`), 20_000);
    const asked = sub.got.length;
    const rebirth = SP.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] });
    sub.client.publish(`${BASE}/NCMD/minimal`, Buffer.from(rebirth));
    const nb = await sub.wait((g) => g.topic === `${BASE}/NBIRTH/minimal`, 10_000, asked);
    const nbp = dec(nb);
    expect(n(nbp.seq)).toBe(0);
    const bd = nbp.metrics?.find((m) => m.name === 'bdSeq');
    expect(bd?.type).toBe('Int64');
    expect(nbp.metrics?.find((m) => m.name === 'Node Control/Rebirth')?.value).toBe(false);
    const from = sub.got.indexOf(nb);
    const db = dec(await sub.wait((g) => g.topic === `${BASE}/DBIRTH/minimal/belt`, 5000, from));
    const speed = db.metrics?.find((m) => m.name === 'speed');
    expect(speed?.type).toBe('Double');
    expect(speed?.properties?.engUnit?.value).toBe('m/s');
    expect(typeof n(speed?.alias)).toBe('number');
    expect(db.metrics?.find((m) => m.name === 'State')?.type).toBe('String');
    expect(db.metrics?.find((m) => m.name === 'partsOut')?.type).toBe('Int32');

    // DDATA: metrics by alias only, aliases from the births
    const dd = dec(await sub.wait((g) => g.topic.startsWith(`${BASE}/DDATA/minimal/`), 5000, from));
    expect(dd.metrics?.every((m) => m.name === undefined || m.name === null || m.name === '')).toBe(true);
    expect(dd.metrics?.every((m) => m.alias !== undefined && m.alias !== null)).toBe(true);

    // seq counts every node message 0…255 and wraps
    const node = (g: Got): boolean => /^spBv1\.0\/test\/(NBIRTH|DBIRTH|DDATA|NDATA)\/minimal/.test(g.topic);
    await sub.wait((g) => node(g) && n(dec(g).seq) === 255, 20_000, from);
    await sub.wait((g) => node(g) && n(dec(g).seq) === 0 && g.topic.includes('DDATA'), 5000, from);
    const seqs = sub.got.slice(from).filter(node).map((g) => n(dec(g).seq));
    for (let k = 1; k < seqs.length; k++) expect(seqs[k]).toBe((seqs[k - 1]! + 1) % 256);

    // DCMD: a PackML command and a setpoint write
    const mark = sub.got.length;
    const stateAlias = n(db.metrics?.find((m) => m.name === 'State')?.alias);
    const fdb = dec(await sub.wait((g) => g.topic === `${BASE}/DBIRTH/minimal/former`, 5000, from));
    const formerState = n(fdb.metrics?.find((m) => m.name === 'State')?.alias);
    expect(formerState).not.toBe(stateAlias);
    sub.client.publish(`${BASE}/DCMD/minimal/former`, Buffer.from(SP.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Command', type: 'String', value: 'stop' }] })));
    sub.client.publish(`${BASE}/DCMD/minimal/belt`, Buffer.from(SP.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'speed', type: 'Double', value: 0.3 }] })));
    await sub.wait((g) => g.topic === `${BASE}/DDATA/minimal/former` && (dec(g).metrics ?? []).some((m) => n(m.alias) === formerState && m.value === 'Stopped'), 5000, mark);
    await sub.wait((g) => g.topic === `${BASE}/DDATA/minimal/belt` && (dec(g).metrics ?? []).some((m) => n(m.alias) === n(speed?.alias) && m.value === 0.3), 5000, mark);

    // garbage on DCMD: refused and logged, the node keeps publishing
    sub.client.publish(`${BASE}/DCMD/minimal/former`, Buffer.from('not protobuf at all \u0000\u00ff'));
    const [rejected] = await twin.eventsWhere(isAudit('DCMD'));
    expect(rejected?.data).toMatchObject({ outcome: 'denied', target: `${BASE}/DCMD/minimal/former` });
    expect(String(rejected?.data.reason)).toContain('not a Sparkplug B payload');
    const after = sub.got.length;
    await sub.wait((g) => g.topic.startsWith(`${BASE}/DDATA/`), 5000, after);
    expect(twin.face.stats().sparkplug!.rebirths).toBeGreaterThanOrEqual(1);
    await sub.close();
  }, 60_000);

  it('a lost broker session ends in NDEATH with the bdSeq of its NBIRTH; the next birth has a new bdSeq', async () => {
    const sub = await recorder(broker.url, { clientId: 'sp-host', clean: false, resubscribe: false });
    await new Promise<void>((r) => sub.client.subscribe(`${BASE}/#`, { qos: 1 }, () => r()));
    const bd0 = twin.face.stats().sparkplug!.bdSeq;
    await broker.stop();
    await broker.restart();
    const nb = await sub.wait((g) => g.topic === `${BASE}/NBIRTH/minimal`, 20_000);
    const bd1 = n(dec(nb).metrics?.find((m) => m.name === 'bdSeq')?.value);
    // the will Mosquitto published for the lost session carried that session's bdSeq
    const will = await sub.wait((g) => g.topic === `${BASE}/NDEATH/minimal`, 1000);
    expect(sub.got.indexOf(will)).toBeLessThan(sub.got.indexOf(nb));
    expect(n(dec(will).metrics?.find((m) => m.name === 'bdSeq')?.value)).toBe(bd0);
    expect(bd1).toBe((bd0 + 1) % 256);
    // historical data held during the outage follows the births
    await sub.wait((g) => g.topic.startsWith(`${BASE}/DDATA/`), 5000, sub.got.indexOf(nb));
    // a clean shutdown of the face publishes NDEATH with the current bdSeq
    closed = true;
    await twin.close();
    const nd = await sub.wait((g) => g.topic === `${BASE}/NDEATH/minimal`, 5000, sub.got.indexOf(nb));
    expect(n(dec(nd).metrics?.find((m) => m.name === 'bdSeq')?.value)).toBe(bd1);
    await sub.close();
  }, 60_000);
});

describe.runIf(have(NATS))('Sparkplug B over NATS (MQTT 3.1.1)', () => {
  // nats-server 2.9 (Debian 12's) refuses '.' in MQTT topic names and so the whole spBv1.0
  // namespace: the face must say so instead of reconnecting in silence
  let broker: TestBroker;
  let twin: Twin;
  let lines: string[] = [];
  beforeAll(async () => {
    broker = await startNats();
    twin = await startTwin({ encoding: 'sparkplug', url: broker.url, intervalMs: 20 });
    lines = twin.log;
  }, 30_000);
  afterAll(async () => {
    await twin?.close();
    await broker?.dispose();
  });

  it('a broker that refuses the Sparkplug topics gets one clear warning naming it and what to do; data is held', async () => {
    const refused = (l: string): boolean => l.includes('closed the connection 3 times before accepting it');
    const end = Date.now() + 15_000;
    while (Date.now() < end && !lines.some(refused)) await new Promise((r) => setTimeout(r, 100));
    console.log(`broker log: ${/ERR.*/.exec(broker.log())?.[0] ?? ''}`);
    const warning = lines.find(refused) ?? '';
    expect(warning, lines.join('\n')).toContain(broker.url);
    expect(warning).toContain('spBv1.0/test/NDEATH/minimal');
    expect(warning).toContain('--mqtt-encoding uns');
    await new Promise((r) => setTimeout(r, 2000));
    expect(lines.filter(refused)).toHaveLength(1);
    const st = twin.face.stats().sparkplug!;
    expect(st.connects).toBe(0);
    expect(st.queued).toBeGreaterThan(0);
  }, 30_000);
});

describe('Sparkplug bdSeq across runs (embedded broker)', () => {
  const VIEWER = { user: 'viewer', password: 'view-secret-1', role: 'viewer' as const };
  it('each run\'s first session has the bdSeq after the last run\'s, kept in the state folder; its NDEATH carries it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinline-bdseq-'));
    const seen: number[] = [];
    try {
      for (let run = 0; run < 2; run++) {
        const twin = await startTwin({
          encoding: 'sparkplug', stateDir: dir, accounts: AccountStore.fromClear([VIEWER]),
          embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: null, explicitWsPort: false },
        });
        const sub = await recorder(twin.face.url, { username: VIEWER.user, password: VIEWER.password });
        await new Promise<void>((r) => sub.client.subscribe(`${BASE}/NDEATH/#`, { qos: 1 }, () => r()));
        seen.push(twin.face.stats().sparkplug!.bdSeq);
        await twin.close();
        const nd = await sub.wait((g) => g.topic === `${BASE}/NDEATH/minimal`, 5000).catch(() => null);
        if (nd !== null) expect(n(dec(nd).metrics?.find((m) => m.name === 'bdSeq')?.value)).toBe(seen[run]);
        await sub.close();
      }
      expect(seen[1]).toBe((seen[0]! + 1) % 256);
      expect(JSON.parse(readFileSync(join(dir, 'sparkplug-test-minimal.json'), 'utf8'))).toEqual({ bdSeq: seen[1] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
