// The MQTT face's store-and-forward outbox and report-by-exception deadbands, without a broker:
// deliveries are recorded and confirmed by hand.
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../sim/protocols/mqtt/outbox.ts';
import { Exceptions, Sample, type StationTags, type Tag } from '../../sim/protocols/mqtt/tags.ts';
import type { World } from '../../sim/core/world.ts';

interface Sent {
  item: number;
  done: (err?: Error) => void;
}

function box(o: { window?: number; maxMessages?: number; requeueFailed?: boolean } = {}): { ob: Outbox<number>; sent: Sent[]; warnings: string[] } {
  const sent: Sent[] = [];
  const warnings: string[] = [];
  const ob = new Outbox<number>({
    maxMessages: o.maxMessages ?? 1000, maxBytes: 1e9, window: o.window ?? 4, size: () => 10, requeueFailed: o.requeueFailed ?? false,
    deliver: (item, done) => sent.push({ item, done }), warn: (l) => warnings.push(l),
  });
  return { ob, sent, warnings };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('store-and-forward outbox', () => {
  it('holds everything while down and sends it in order, a window at a time', async () => {
    const { ob, sent } = box({ window: 3 });
    for (let k = 0; k < 10; k++) ob.push(k);
    expect(sent).toEqual([]);
    expect(ob.stats.queued).toBe(10);
    ob.up();
    expect(sent.map((s) => s.item)).toEqual([0, 1, 2]);
    for (const s of sent.slice(0, 3)) s.done();
    await tick();
    expect(sent.map((s) => s.item)).toEqual([0, 1, 2, 3, 4, 5]);
    while (sent.length < 10 || ob.stats.sent < 10) {
      for (const s of sent.slice(ob.stats.sent)) s.done();
      await tick();
    }
    expect(sent.map((s) => s.item)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ob.idle).toBe(true);
  });

  it('confirmations out of order free the window all the same', async () => {
    const { ob, sent } = box({ window: 3 });
    ob.up();
    for (let k = 0; k < 5; k++) ob.push(k);
    sent[2]!.done();
    sent[0]!.done();
    await tick();
    expect(sent.map((s) => s.item)).toEqual([0, 1, 2, 3, 4]);
    expect(ob.stats.sent).toBe(2);
    sent[1]!.done();
    sent[4]!.done();
    sent[3]!.done();
    await tick();
    expect(ob.stats.sent).toBe(5);
    expect(ob.idle).toBe(true);
  });

  it('drops the oldest beyond its bound, counts them and warns once per outage', () => {
    const { ob, warnings } = box({ maxMessages: 5 });
    for (let k = 0; k < 8; k++) ob.push(k);
    expect(ob.stats).toMatchObject({ queued: 5, dropped: 3, peak: 5 });
    expect(warnings.length).toBe(1);
    expect(ob.takeAll()).toEqual([3, 4, 5, 6, 7]);
  });

  it('with requeueFailed, unconfirmed messages go back to the front when the link drops', async () => {
    const { ob, sent } = box({ window: 2, requeueFailed: true });
    ob.up();
    for (let k = 0; k < 4; k++) ob.push(k);
    expect(sent.map((s) => s.item)).toEqual([0, 1]);
    sent[0]!.done();
    ob.down();
    sent[1]!.done(new Error('socket closed'));
    await tick();
    expect(ob.stats.queued).toBe(3);
    ob.up();
    expect(sent.slice(2).map((s) => s.item)).toEqual([1, 2]);
  });

  it('keeps order and O(1) bookkeeping over a large window', async () => {
    const { ob, sent } = box({ window: 50_000, maxMessages: 200_000 });
    ob.up();
    for (let k = 0; k < 100_000; k++) ob.push(k);
    const t0 = performance.now();
    while (ob.stats.sent < 100_000) {
      for (const s of sent.slice(ob.stats.sent)) s.done();
      await tick();
    }
    expect(performance.now() - t0).toBeLessThan(5000); // a quadratic search would take minutes
    expect(sent.every((s, k) => s.item === k)).toBe(true);
  });
});

describe('report by exception', () => {
  function line(tags: Partial<Tag>[]): { st: StationTags[]; values: Float64Array; sample: Sample } {
    const full = tags.map((t, k): Tag => ({
      station: 0, name: `t${k}`, unit: '', description: '', access: 'r', min: null, max: null, dataType: 'Double', deadband: 0, relative: false, ...t,
    }));
    const st: StationTags[] = [{ index: 0, id: 's', slug: 's', offset: 0, tags: full }];
    const values = new Float64Array(full.length);
    const reader = { read: (_s: number, name: string) => values[Number(name.slice(1))] ?? NaN, st: { state: [6] }, hdr: [0], dt: 0.001, readConsistent: (fn: () => void) => (fn(), { consistent: true }) };
    return { st, values, sample: new Sample(reader as unknown as World, st) };
  }

  function changed(ex: Exceptions, sample: Sample): string[] {
    sample.take();
    const out: string[] = [];
    ex.changed(sample, (st, k) => out.push(st.tags[k]!.name));
    return out;
  }

  it('sends every tag first, then only moves past the deadband (absolute, relative, exact)', () => {
    const { st, values, sample } = line([{ deadband: 1 }, { deadband: 0.01, relative: true }, { dataType: 'Int32' }]);
    const ex = new Exceptions(st, 3);
    values.set([10, 100, 5]);
    expect(changed(ex, sample)).toEqual(['t0', 't1', 't2']);
    values.set([10.9, 100.9, 5]);
    expect(changed(ex, sample)).toEqual([]);
    values.set([11.0, 101.0, 6]);
    expect(changed(ex, sample)).toEqual(['t0', 't1', 't2']);
    // drift below the band is measured from the last value sent, so it cannot creep by unseen
    values.set([11.6, 101.5, 6]);
    expect(changed(ex, sample)).toEqual([]);
    values.set([12.0, 102.1, 6]);
    expect(changed(ex, sample)).toEqual(['t0', 't1']);
  });

  it('NaN appearing and disappearing is a change; reset sends everything again', () => {
    const { st, values, sample } = line([{ deadband: 1 }]);
    const ex = new Exceptions(st, 1);
    values[0] = 1;
    expect(changed(ex, sample)).toEqual(['t0']);
    values[0] = NaN;
    expect(changed(ex, sample)).toEqual(['t0']);
    expect(changed(ex, sample)).toEqual([]);
    values[0] = 1;
    expect(changed(ex, sample)).toEqual(['t0']);
    ex.reset();
    expect(changed(ex, sample)).toEqual(['t0']);
  });
});

describe('embedded broker ACL', () => {
  const ns = { prefix: 'e/s/a/l', group: 'g', edge: 'l' };
  const { prefix } = ns;
  it('a gateway publishes its own topics, never the twin\'s namespace, its Sparkplug node or commands', async () => {
    const { mayPublish } = await import('../../sim/protocols/mqtt/acl.ts');
    expect(mayPublish('gateway', 'gw/relay/kiln/temp', ns)).toBe(true);
    expect(mayPublish('gateway', 'spBv1.0/g/DDATA/other-edge/dev', ns)).toBe(true);
    expect(mayPublish('gateway', `${prefix}/kiln/temp`, ns)).toBe(false);
    expect(mayPublish('gateway', `${prefix}/kiln/cmd/stop`, ns)).toBe(false);
    expect(mayPublish('gateway', 'spBv1.0/g/DCMD/edge/kiln', ns)).toBe(false);
    for (const verb of ['NBIRTH', 'NDEATH', 'NDATA']) expect(mayPublish('gateway', `spBv1.0/g/${verb}/l`, ns)).toBe(false);
    for (const verb of ['DBIRTH', 'DDEATH', 'DDATA']) expect(mayPublish('gateway', `spBv1.0/g/${verb}/l/kiln`, ns)).toBe(false);
    expect(mayPublish('gateway', '$SYS/x', ns)).toBe(false);
  });

  it('operator, engineer and instructor publish command topics only; viewer and anonymous nothing', async () => {
    const { mayPublish, publishDenied } = await import('../../sim/protocols/mqtt/acl.ts');
    for (const role of ['operator', 'engineer', 'instructor'] as const) {
      expect(mayPublish(role, `${prefix}/kiln/cmd/stop`, ns)).toBe(true);
      expect(mayPublish(role, `${prefix}/cmd/start`, ns)).toBe(true);
      expect(mayPublish(role, 'spBv1.0/g/NCMD/l', ns)).toBe(true);
      expect(mayPublish(role, 'spBv1.0/g/DCMD/l/kiln', ns)).toBe(true);
      expect(mayPublish(role, `${prefix}/kiln/cmd/stop/reply`, ns)).toBe(false);
      expect(mayPublish(role, `${prefix}/kiln/temp`, ns)).toBe(false);
      expect(mayPublish(role, 'spBv1.0/g/NBIRTH/l', ns)).toBe(false);
      expect(mayPublish(role, 'gw/relay/kiln/temp', ns)).toBe(false);
    }
    expect(mayPublish('viewer', 'gw/x', ns)).toBe(false);
    expect(mayPublish(null, 'gw/x', ns)).toBe(false);
    expect(publishDenied('viewer', `${prefix}/kiln/cmd/stop`, ns)).toBe('commands are not allowed for viewer clients');
    expect(publishDenied('gateway', 'spBv1.0/g/NBIRTH/l', ns)).toBe('only the twin publishes its own UNS and Sparkplug topics');
    expect(mayPublish('publisher', 'spBv1.0/g/NBIRTH/l', ns)).toBe(true);
  });

  it('$SYS is for the instructor only, shared or not; # is for everyone', async () => {
    const { subscribeDenied } = await import('../../sim/protocols/mqtt/acl.ts');
    for (const role of ['viewer', 'gateway', 'operator', 'engineer', null] as const) {
      expect(subscribeDenied(role, '$SYS/#')).toContain('$SYS is for the instructor role');
      expect(subscribeDenied(role, '$share/g/$SYS/broker/clients/#')).not.toBeNull();
      expect(subscribeDenied(role, '#')).toBeNull();
      expect(subscribeDenied(role, '+/+/#')).toBeNull();
    }
    expect(subscribeDenied('instructor', '$SYS/#')).toBeNull();
  });
});
