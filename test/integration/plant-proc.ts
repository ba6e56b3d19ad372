/**
 * What the plant tests share: `twinline plant up` started as a person starts it, a probe on the
 * cluster's MQTT that notes when each line's unified namespace was last heard, and the last
 * resort of their clean-up.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { expect } from 'vitest';
import { alive, type PlantRecord } from '../../sim/plant/plant-up.ts';
import { own, type Owned } from '../proc.ts';
import { waitFor } from './opcua-host.ts';
import { START_MS } from './serve-proc.ts';

/** `twinline plant up <file> --home <home>`, once its banner names its plant.json. */
export async function startPlantUp(file: string, home: string): Promise<Owned> {
  const up = own(process.execPath, ['bin/twinline.mjs', 'plant', 'up', file, '--home', home]);
  await waitFor('the plant to come up', () => /plant\s+\S+plant\.json/.test(up.out()) || !up.running(), (done) => done, START_MS);
  expect(up.running(), up.out()).toBe(true);
  return up;
}

/** A client of the MQTT at `url`, subscribed to everything, that sets `heard[line]` to when it last received one of `lines`' topics. */
export function hearLines(url: string, clientId: string, lines: readonly string[], heard: Map<string, number>): mqtt.MqttClient {
  const sub = mqtt.connect(url, { clientId, reconnectPeriod: 500 });
  sub.on('connect', () => sub.subscribe('#'));
  sub.on('message', (topic) => {
    const line = lines.find((l) => topic.includes(`/${l}/`) || topic.endsWith(`/${l}`));
    if (line !== undefined) heard.set(line, Date.now());
  });
  return sub;
}

/** SIGKILLs every line host and NATS node the plant's `plant.json` names that still lives: what a test that failed before the plant stopped them leaves. */
export function killWhatPlantStarted(recordFile: string): void {
  let rec: PlantRecord;
  try {
    rec = JSON.parse(readFileSync(recordFile, 'utf8')) as PlantRecord;
  } catch {
    return; // no record: the plant never came this far
  }
  for (const pid of [...rec.lines.map((l) => l.pid), ...rec.nats.map((n) => n.pid)]) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
}
