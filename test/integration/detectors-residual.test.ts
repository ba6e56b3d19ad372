/**
 * Physics residuals behind an external broker (a real Mosquitto the test starts, anonymous
 * publishing allowed, as many plant brokers are): the twin publishes the kiln cell's UNS there,
 * and the broker, not the twin, decides who may publish on the twin's topics. The twin's own
 * values coming back raise nothing; a value within the tag's noise from another client raises
 * nothing; a forged zone temperature far off the model is detected by the `residual` detector
 * at once, naming the topic, the value, what the model holds and the sender as well as the twin
 * can know it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { have, json, MOSQUITTO, recorder, startMosquitto, type Recorder, type TestBroker } from './brokers.ts';
import { START_MS, startServe, type ServeProc } from './serve-proc.ts';
import { waitFor } from './opcua-host.ts';
import { scaled } from '../proc.ts';

const KILN = 'test/fixtures/scenarios/kiln-cell.yaml';

interface AlertView { rule: string; detector: string; station: string; principal: string; title: string; severity: string; techniques: string[]; evidence: { lines: string[] }; firstEvidenceMs: number; alertMs: number }

describe.runIf(have(MOSQUITTO) || process.env.CI === 'true')('physics residuals of values reported on the twin\'s UNS at an external broker', () => {
  let broker: TestBroker;
  let s: ServeProc;
  let watch: Recorder;
  let prefix = '';
  const alerts = async (): Promise<AlertView[]> => (await s.call('api/alerts', {}, 'viewer')).body.alerts as AlertView[];

  beforeAll(async () => {
    broker = await startMosquitto();
    s = await startServe([KILN, '--http-port', '0', '--opcua-port', '0', '--mqtt', broker.url]);
    watch = await recorder(broker.url, { clientId: 'residual-watch' });
    await watch.client.subscribeAsync('twinline/#', { qos: 0 });
    // the twin's live values (not the retained ones of a past run): the kiln's first zone
    const t1 = await watch.wait((g) => !g.retain && g.topic.endsWith('/kiln/t1'), scaled(30_000));
    prefix = t1.topic.slice(0, -'/kiln/t1'.length);
  }, START_MS + 60_000);

  afterAll(async () => {
    await watch?.close();
    await s?.stop();
    await broker?.dispose();
  });

  /** the kiln's value of `tag` as the twin last published it */
  const last = (tag: string): number => Number(json(watch.got.filter((g) => g.topic === `${prefix}/kiln/${tag}`).at(-1)!).v);

  it('the twin\'s own values coming back from the broker, and a value within the tag\'s noise, raise nothing', async () => {
    expect(s.out()).toMatch(/detectors .*default\.yaml/);
    const page = (await s.call('api/alerts', {}, 'viewer')).body as { detectors: string[] };
    expect(page.detectors).toContain('residual');
    // a few seconds of the twin's own traffic round the broker
    const n = watch.got.length;
    await waitFor('the twin publishing', () => watch.got.length - n, (k) => k >= 20, 30_000);
    // another client repeats the setpoint the twin holds (its own message format, not the twin's payload)
    const sp1 = last('sp1');
    expect(sp1).toBe(900);
    const relay = await recorder(broker.url, { clientId: 'relay' });
    for (let k = 0; k < 20; k++) await relay.client.publishAsync(`${prefix}/kiln/sp1`, JSON.stringify({ v: sp1 + (k % 2 === 0 ? 1 : -1) }), { qos: 1 });
    await relay.close();
    await new Promise((r) => setTimeout(r, scaled(1000)));
    expect(await alerts()).toEqual([]);
  }, scaled(90_000));

  it('a forged zone temperature far off the model is detected at once by the residual detector', async () => {
    const model = last('t1');
    expect(model).toBeGreaterThan(200);
    const attacker = await recorder(broker.url, { clientId: 'forger' });
    const sentAt = Date.now();
    await attacker.client.publishAsync(`${prefix}/kiln/t1`, JSON.stringify({ v: 20, t: 0, u: '°C', seq: 1 }), { qos: 1, retain: true });
    // a payload that is no value at all is audited, never thrown
    await attacker.client.publishAsync(`${prefix}/kiln/t2`, 'not json', { qos: 1 });
    await attacker.close();
    const got = await waitFor('a residual alert', alerts, (a) => a.some((x) => x.rule === 'residual'), 30_000);
    const a = got.find((x) => x.rule === 'residual')!;
    expect(a).toMatchObject({ detector: 'residual', station: 'kiln', severity: 'high', techniques: ['T0856', 'T0832'], principal: `unverified@127.0.0.1:${broker.port}` });
    expect(a.title).toMatch(/^kiln\.t1 reported below what the model predicts \(20 °C against \d+(\.\d+)? °C, CUSUM over 1 message\)$/);
    expect(a.evidence.lines[0]).toContain(`${prefix}/kiln/t1 = 20 °C from unverified@127.0.0.1:${broker.port} (mqtt)`);
    console.log(`residual alert ${a.alertMs - sentAt} ms after the forged publish: ${a.title}`);
    expect(a.alertMs).toBeGreaterThanOrEqual(sentAt);
    // the garbage value: audited by the face, with the topic
    const garbage = (e: Awaited<ReturnType<ServeProc['events']>>[number]): boolean => e.type === 'audit' && e.data.source === 'mqtt' && e.data.target === `${prefix}/kiln/t2` && String(e.data.reason).startsWith('malformed value on the twin\'s own topic');
    await waitFor('the garbage value audited', () => s.events(), (evs) => evs.some(garbage), 20_000);
    // only the forged value: nothing else was flagged
    expect(got.filter((x) => x.detector === 'residual').map((x) => x.title.split(' ')[0])).toEqual(['kiln.t1']);
  }, scaled(90_000));
});
