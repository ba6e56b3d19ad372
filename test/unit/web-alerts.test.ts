/**
 * The web twin's alert feed against the host's real `GET /api/alerts` and `POST /api/alerts/ack`
 * routes (rest.ts over a real AlertLog, an open-profile account store, a real HTTP server):
 * alerts arrive incrementally and newest first, the page keeps a bounded number with trimmed
 * evidence, acknowledgements made elsewhere arrive with the next poll, a viewer is refused the
 * acknowledgement, a restarted run starts the list again, and a host that refuses the alerts
 * (or runs no detectors) is reported as such. Then what the active alerts mark: stations by
 * their most severe alert, the faces the evidence names, and the overlay's nodes and links.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertLog } from '../../security/detectors/alert-log.ts';
import type { Alert } from '../../security/detectors/engine.ts';
import { AccountStore } from '../../sim/host/accounts.ts';
import { TokenStore, type HttpAuth } from '../../sim/host/http-auth.ts';
import { HostNames } from '../../sim/host/http-guard.ts';
import { LoginGuard } from '../../sim/host/login-guard.ts';
import { handle, RefusalAudit, type RestContext } from '../../sim/host/rest.ts';
import { ACTIVE_MS, AlertFeed, alertMarks, MAX_ALERTS, MAX_EVIDENCE, type AlertState, type TwinAlert } from '../../web/src/twin/alerts.ts';
import { withAlerts, type Graph } from '../../web/src/scene/network-graph.ts';
import { en } from '../../web/src/i18n/en.ts';

let dir = '';
let server: Server;
let base = '';
let log: AlertLog;
let auth: HttpAuth;
const audits: unknown[] = [];
let refuseAll = false;

/** An alert as the engine raises it. */
function mk(id: number, o: Partial<Alert> = {}): Alert {
  return {
    id, detector: 'physics', rule: 'stop-source', severity: 'high', techniques: ['T0855'], title: `alert ${id}`, station: 'kiln', principal: 'anonymous@127.0.0.1',
    evidence: { seqs: [id], lines: [`#${id} command kiln source=opcua principal=anonymous command=stop`] }, firstEvidenceMs: Date.now(), alertMs: Date.now(), ...o,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-web-alerts-'));
  log = new AlertLog(dir, ['allow-list', 'rate', 'physics']);
  const accounts = AccountStore.open(dir, { create: true });
  auth = { profile: 'open', accounts, guard: new LoginGuard(), tokens: new TokenStore(accounts) };
  let hosts: HostNames | null = null;
  // the alert routes need the alerts, the plane's guards and the audit call; nothing else of the line
  const ctx = () => ({ alerts: log, auth, hosts: hosts!, api: { audit: async (a: unknown) => void audits.push(a) } }) as unknown as RestContext;
  const refusals = new RefusalAudit((a) => audits.push(a));
  server = createServer((req, res) => {
    if (refuseAll) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_AUTHORIZED', message: 'the alerts are not for this account' } }));
      return;
    }
    void handle(req, res, ctx(), refusals);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  hosts = new HostNames('127.0.0.1', port);
  base = `http://127.0.0.1:${port}/`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  log.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A feed as the page makes it (the session's fetch: a path under the host, with the token if any). */
function feed(token: string | null = null): AlertFeed {
  return new AlertFeed((path, init = {}) => {
    const headers = new Headers(init.headers);
    if (token !== null) headers.set('authorization', `Bearer ${token}`);
    return fetch(`${base}${path}`, { ...init, headers });
  }, 60_000);
}

describe('the alert feed over the host\'s routes', () => {
  it('reads alerts incrementally, newest first, bounded, with trimmed evidence; acknowledgements come back with the next poll', async () => {
    const f = feed();
    const states: AlertState[] = [];
    f.subscribe(() => states.push(f.get()));
    expect(f.get().status).toBe('loading');
    log.add([mk(1), mk(2, { severity: 'critical', rule: 'recipe-band' }), mk(3, { evidence: { seqs: [1, 2, 3, 4, 5, 6, 7], lines: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] } })]);
    await f.poll();
    let s = f.get();
    expect(s.status).toBe('ok');
    expect(s.alerts.map((a) => a.id)).toEqual([3, 2, 1]);
    expect(s.alerts[0]!.evidence.lines).toHaveLength(MAX_EVIDENCE);
    expect(s.raised).toBe(3);
    expect(s.detectors).toEqual(['allow-list', 'rate', 'physics']);
    expect(Math.abs(s.skewMs)).toBeLessThan(5000);

    // an acknowledgement by someone else, and more alerts than the page keeps
    expect(log.ack(2, 'engineer@10.0.0.7', Date.now())).not.toBeNull();
    log.add(Array.from({ length: MAX_ALERTS + 50 }, (_, k) => mk(4 + k)));
    await f.poll();
    s = f.get();
    const newest = 3 + MAX_ALERTS + 50;
    // one poll catches up a few pages; the page never holds more than MAX_ALERTS
    expect(s.alerts.length).toBeLessThanOrEqual(MAX_ALERTS);
    await f.poll();
    s = f.get();
    expect(s.alerts).toHaveLength(MAX_ALERTS);
    expect(s.alerts[0]!.id).toBe(newest);
    expect(s.alerts.map((a) => a.id)).toEqual(Array.from({ length: MAX_ALERTS }, (_, k) => newest - k));
    expect(s.raised).toBe(newest);
    // the acknowledged alert 2 has left the page's window (kept: the newest), as with any other

    // the page's own acknowledgement (open profile: the anonymous operator), seen at once and by a second page
    const r = await f.ack(newest);
    expect(r).toEqual({ ok: true });
    expect(f.get().alerts[0]!.ack).toMatchObject({ id: newest, by: 'anonymous@127.0.0.1' });
    expect(audits).toContainEqual(expect.objectContaining({ action: 'ack', outcome: 'allowed', target: `alert ${newest}`, principal: 'anonymous@127.0.0.1' }));
    const other = feed();
    await other.poll();
    await other.poll();
    expect(other.get().alerts.find((a) => a.id === newest)?.ack?.by).toBe('anonymous@127.0.0.1');
    log.ack(newest - 1, 'engineer@10.0.0.7', Date.now());
    await other.poll();
    expect(other.get().alerts.find((a) => a.id === newest - 1)?.ack?.by).toBe('engineer@10.0.0.7');
    expect(await f.ack(999_999)).toEqual({ ok: false, message: expect.stringContaining('no alert 999999') });
    expect(states.length).toBeGreaterThan(2);
  });

  it('a viewer reads the alerts but is refused the acknowledgement, and the refusal is audited', async () => {
    const { token } = auth.tokens.issue({ user: 'viewer', role: 'viewer' });
    const f = feed(token);
    await f.poll();
    expect(f.get().status).toBe('ok');
    const id = f.get().alerts.find((a) => a.ack === null)!.id;
    const r = await f.ack(id);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.message).toMatch(/viewer role may not send commands: acknowledging an alert needs the operator role/);
    expect(f.get().alerts.find((a) => a.id === id)!.ack).toBeNull();
    expect(audits).toContainEqual(expect.objectContaining({ action: 'ack', outcome: 'denied', principal: 'viewer@127.0.0.1' }));
  });

  it('a host that refuses the alerts is "forbidden" with its message; one without detectors is "off"; a restarted run starts the list again', async () => {
    const f = feed();
    refuseAll = true;
    await f.poll();
    expect(f.get()).toMatchObject({ status: 'forbidden', error: 'the alerts are not for this account' });
    refuseAll = false;
    await f.poll();
    expect(f.get().status).toBe('ok');
    const held = f.get().alerts.length;
    expect(held).toBeGreaterThan(0);

    // the host's run restarted: a new log with fewer alerts than the page has read
    const old = log;
    log = new AlertLog(dir, ['physics']);
    log.add([mk(1, { title: 'after the restart' })]);
    await f.poll();
    await f.poll();
    expect(f.get().alerts.map((a) => a.title)).toEqual(['after the restart']);
    old.close();

    const off = log;
    log = new AlertLog(dir, []);
    const g = feed();
    await g.poll();
    expect(g.get()).toMatchObject({ status: 'off', alerts: [] });
    off.close();
    g.close();
    f.close();
  });
});

describe('what the active alerts mark', () => {
  const at = 10_000_000;
  const alert = (id: number, o: Partial<TwinAlert>): TwinAlert => ({ ...mk(id), alertMs: at - 1000, firstEvidenceMs: at - 1000, ack: null, ...o });

  it('stations by their most severe unacknowledged alert of the last minutes; faces and links from the evidence', () => {
    const alerts = [
      alert(5, { severity: 'medium', station: 'belt', evidence: { seqs: [], lines: ['#9 audit line source=mqtt principal=x action=subscribe target=#'] } }),
      alert(4, { severity: 'critical', station: 'kiln', ack: { id: 4, by: 'o', ms: at, seq: 1 } }),
      alert(3, { severity: 'high', station: 'kiln' }),
      alert(2, { severity: 'low', station: 'kiln' }),
      alert(1, { severity: 'critical', station: 'out', alertMs: at - ACTIVE_MS - 1 }),
      alert(0, { severity: 'low', station: null, evidence: { seqs: [], lines: ['#1 audit line source=api principal=?@1.2.3.4 action=login outcome=denied'] } }),
    ];
    const m = alertMarks(alerts, at);
    expect([...m.stations]).toEqual([['belt', 'medium'], ['kiln', 'high']]);
    expect([...m.faces]).toEqual([['mqtt', { severity: 'medium', rule: 'stop-source' }], ['opcua', { severity: 'high', rule: 'stop-source' }], ['api', { severity: 'low', rule: 'stop-source' }]]);
    expect([...m.links]).toEqual(['belt~mqtt', 'kiln~opcua']);
    expect(m.count).toBe(4);
    expect(m.worst).toBe('high');
    expect(alertMarks([], at)).toMatchObject({ count: 0, worst: null });
  });

  it('the overlay marks the named faces, their clients and the way to the station\'s PLC, and labels the face with the rule', () => {
    const node = (id: string): Graph['nodes'][number] => ({ id, kind: id.startsWith('plc:') ? 'plc' : 'face', label: [id], x: 0, y: 0, z: 0, unusual: false, attack: false });
    const link = (from: string, to: string): Graph['links'][number] => ({ id: `${from}~${to}`, from, to, protocol: 'opcua', rate: 1, unusual: false, attack: false });
    const g: Graph = {
      nodes: ['plc:kiln', 'plc:belt', 'opcua', 'opcua-clients', 'api', 'api-clients', 'mqtt', 'broker', 'mqtt-clients'].map(node),
      links: [link('opcua', 'opcua-clients'), link('api', 'api-clients'), link('mqtt', 'broker'), link('broker', 'mqtt-clients'), link('plc:kiln', 'opcua'), link('plc:belt', 'opcua'), link('plc:kiln', 'mqtt')],
    };
    expect(withAlerts(g, null, en.net)).toBe(g);
    const marked = withAlerts(g, alertMarks([alert(1, { station: 'kiln' })], at), en.net);
    expect(marked.links.filter((l) => l.alert === true).map((l) => l.id)).toEqual(['opcua~opcua-clients', 'plc:kiln~opcua']);
    expect(marked.nodes.filter((n) => n.alert === true).map((n) => n.id)).toEqual(['plc:kiln', 'opcua', 'opcua-clients']);
    expect(marked.nodes.find((n) => n.id === 'opcua')!.label).toEqual(['Alert: stop-source', 'opcua']);
    // a command through MQTT crosses the broker and the twin's publisher on its way to the PLC
    const viaMqtt = withAlerts(g, alertMarks([alert(1, { station: 'kiln', evidence: { seqs: [], lines: ['#3 command kiln source=mqtt principal=p command=stop'] } })], at), en.net);
    expect(viaMqtt.links.filter((l) => l.alert === true).map((l) => l.id)).toEqual(['mqtt~broker', 'broker~mqtt-clients', 'plc:kiln~mqtt']);
  });
});
