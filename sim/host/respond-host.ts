/**
 * Incident response as `serve` runs it: the containment every face consults, the impact meter
 * fed with the drained events, the line actions with their start snapshot, the action log in
 * the run's folder, and the REST responder over them (respond.ts). One call sets it up; the
 * faces register what they can close as they come up.
 */
import type { AuditEntry, Role } from '../core/commands.ts';
import type { SimEvent } from '../core/events.ts';
import type { World } from '../core/world.ts';
import type { AsyncApi, SimApi } from '../worker/api.ts';
import { readTick } from '../worker/reader.ts';
import type { AlertLog } from '../../security/detectors/alert-log.ts';
import { ruleIds, DEFAULT_DETECTORS, loadDetectorConfig, type DetectorConfig } from '../../security/detectors/config.ts';
import { DEFAULT_PLAYBOOKS, loadBook } from '../../security/playbooks/load.ts';
import { ImpactMeter } from '../../security/playbooks/impact.ts';
import type { Book } from '../../security/playbooks/playbook.ts';
import { ActionLog } from '../../security/respond/action-log.ts';
import type { IsolatableFace } from '../../security/respond/actions.ts';
import type { OpcuaFace, OpcuaGate } from '../protocols/opcua/server.ts';
import type { MqttFace } from '../protocols/mqtt/face.ts';
import type { BrokerGate } from '../protocols/mqtt/broker.ts';
import { Containment } from './containment.ts';
import type { TokenStore } from './http-auth.ts';
import { Responder } from './respond.ts';
import { LineActions } from './respond-line.ts';

/**
 * The playbooks of `dir` (default: the built-in ones; null: none), checked against the rule ids
 * of the built-in detectors and of the ones the host runs; a bad file is refused with every problem.
 */
export function loadPlaybooks(dir: string | null | undefined, detectors: DetectorConfig | null): Book | null {
  if (dir === null) return null;
  const rules = new Set([...ruleIds(loadDetectorConfig(DEFAULT_DETECTORS)), ...(detectors === null ? [] : ruleIds(detectors))]);
  return loadBook(dir ?? DEFAULT_PLAYBOOKS, { rules: [...rules] });
}

/** What `startResponse` needs. */
export interface ResponseOptions {
  api: AsyncApi<SimApi>;
  reader: World;
  stations: readonly string[];
  /** the run's folder (respond.ndjson) */
  runDir: string;
  book: Book | null;
  alerts: AlertLog | null;
  /** the role of an account of the store (revoked ones too), or null when there is none */
  accountRole(user: string): Role | null;
  faces(): Record<IsolatableFace, boolean>;
  audit(a: AuditEntry): void;
}

/** The running response. */
export interface Response {
  containment: Containment;
  responder: Responder;
  /** feeds the impact meter with drained events */
  onEvents(evs: readonly SimEvent[]): void;
  close(): void;
}

/** Sets up incident response; the start snapshot is taken now. */
export function startResponse(o: ResponseOptions): Response {
  const containment = new Containment();
  const tick = (): number => readTick(o.reader);
  const meter = new ImpactMeter(o.stations, o.reader.dt);
  const line = new LineActions({ api: o.api, reader: o.reader, tick });
  line.take('start');
  const log = new ActionLog(o.runDir);
  const responder = new Responder({
    containment, line, log, meter, book: o.book, alerts: o.alerts, accountRole: o.accountRole, faces: o.faces, audit: o.audit, tick,
  });
  return {
    containment,
    responder,
    onEvents: (evs) => meter.onEvents(evs, Date.now(), tick()),
    close: () => log.close(),
  };
}

/** What each face asks of incident response, as its options name it. */
export function faceGates(c: Containment): { opcua: OpcuaGate; mqtt: BrokerGate; modbus: { writes(): string | null } } {
  return {
    opcua: { account: (u) => c.account(u), writes: () => c.face('opcua') },
    mqtt: { account: (u) => c.account(u), mqttClient: (id) => c.mqttClient(id), commands: () => c.face('mqtt') },
    modbus: { writes: () => c.face('modbus') },
  };
}

/** Lets a ban revoke the REST tokens of the banned account (its live sockets see the ban within 2 s). */
export function closesRest(c: Containment, tokens: TokenStore): void {
  c.register('rest', {
    account: (user) => {
      const n = tokens.revokeUser(user);
      return n === 0 ? [] : [`${n} REST token${n === 1 ? '' : 's'} of ${user} revoked (its live sockets close within 2 s)`];
    },
  });
}

/** Lets a ban close the OPC UA sessions of the banned account, and `close-sessions` close any. */
export function closesOpcua(c: Containment, face: OpcuaFace): void {
  c.register('opcua', { account: (user) => face.closeSessions({ user }), opcuaSessions: (m) => face.closeSessions(m) });
}

/** Lets a ban close the MQTT connections of the banned account or client id (embedded broker). */
export function closesMqtt(c: Containment, face: MqttFace): void {
  c.register('mqtt', {
    account: (user) => face.disconnect((u) => (u ?? 'anonymous') === user).map((p) => `connection ${p} closed`),
    mqttClient: (id) => face.disconnect((_u, cid) => cid === id).map((p) => `connection ${p} closed`),
  });
}
