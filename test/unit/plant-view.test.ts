/**
 * The plant view's feed (sim/plant/plant-view.ts): what a line's events say of it (latest KPIs,
 * each station's PackML state, when it last spoke), events it cannot read skipped, and the plant
 * totals over the lines (sums, OEE as the mean of the lines that reported one).
 */
import { describe, expect, it } from 'vitest';
import { PlantFeed, plantView } from '../../sim/plant/plant-view.ts';
import type { PlantRecord } from '../../sim/plant/plant-up.ts';

const host = (id: string, state: PlantRecord['lines'][number]['state']): PlantRecord['lines'][number] => ({
  id, scenario: `${id}.yaml`, node: 'p-n1', mqtt: 'mqtt://127.0.0.1:1', host: null, netns: null, address: '127.0.0.1', home: '/tmp', state, pid: 1, url: `http://127.0.0.1:9/${id}/`, opcua: null, runDir: null, restarts: 0, lastExit: null,
});
const rec: PlantRecord = {
  id: 'p', title: { en: 'P', zh: 'P' }, file: 'p.yaml', pid: 1, state: 'up', startedAtMs: 0, view: null, network: null, hosts: [],
  nats: [{ name: 'p-n1', nats: 'nats://127.0.0.1:1', mqtt: 'mqtt://127.0.0.1:2', routePort: 3, monitor: 'http://127.0.0.1:4', pid: 5, restarts: 1, partitioned: true }],
  lines: [host('a', 'up'), host('b', 'up'), host('c', 'restarting')],
};
const kpi = (good: number, simHours: number, oee: number, energyKWh: number): string => JSON.stringify({ seq: 9, tick: 1, type: 'kpi', station: null, data: { simHours, good, shipped: good + 1, oee, energyKWh } });

describe('plant view', () => {
  it('keeps the latest KPIs and station states of each line and skips what it cannot read', () => {
    const feed = new PlantFeed(['a', 'b', 'c']);
    feed.onEvent('a', JSON.stringify({ seq: 0, tick: 0, type: 'state', station: 'kiln', data: { from: 'Idle', to: 'Execute', cause: '' } }), 1000);
    feed.onEvent('a', kpi(10, 1, 0.5, 20), 2000);
    feed.onEvent('a', kpi(30, 2, 0.7, 41), 3000);
    feed.onEvent('a', '{not json', 4000);
    feed.onEvent('b', kpi(5, 1, 0.9, 10), 3500);
    feed.onEvent('nobody', kpi(99, 1, 1, 1), 3500);
    const v = plantView(rec, feed, { connected: true, server: 'nats://127.0.0.1:1' });
    const a = v.lines[0]!;
    expect(a.kpi).toEqual({ simHours: 2, good: 30, shipped: 31, oee: 0.7, energyKWh: 41 });
    expect(a.stations).toEqual({ kiln: 'Execute' });
    expect(a.events).toBe(3);
    expect(a.lastEventAtMs).toBe(3000);
    expect(a.goodPerHour).toBe(15);
    expect(v.lines[2]!.kpi).toBeNull();
    expect(v.totals).toEqual({ lines: 3, up: 2, good: 35, shipped: 37, energyKWh: 51, goodPerHour: 20, oee: 0.8, reporting: 2 });
    expect(v.nats).toEqual([{ name: 'p-n1', restarts: 1, partitioned: true }]);
  });

  it('has no plant OEE before any line reported one', () => {
    const v = plantView(rec, new PlantFeed(['a', 'b', 'c']), { connected: false, server: null });
    expect(v.totals.oee).toBeNull();
    expect(v.totals.reporting).toBe(0);
  });
});
