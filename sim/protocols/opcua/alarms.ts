/**
 * Machine alarms as OPC UA Alarms & Conditions: one AlarmConditionType instance per station
 * and alarm code (the kind's alarms and the common ones), made when first raised, then raised
 * and cleared from the line's drained events. Acknowledging a condition sends the station an
 * `ack` of that condition's alarm only (`{alarm: code}`), so the station's other alarms stay
 * unacknowledged; an `ack` from another source (HMI, API, Modbus) acknowledges the conditions
 * of the bits it acknowledged.
 */
import type { ISessionContext, Namespace, UAAlarmConditionEx, UAObject } from 'node-opcua';
import { NodeId, StatusCodes } from 'node-opcua';
import type { SimEvent } from '../../core/events.ts';
import { COMMON_ALARMS } from '../../core/station.ts';
import type { AlarmSpec } from '../../core/types.ts';
import type { LineSpec } from '../../line/types.ts';
import { machineKind } from '../../machines/index.ts';
import type { LineLink, LineNodes } from './address-space.ts';

interface StationAlarm {
  spec: AlarmSpec;
  node: UAAlarmConditionEx;
}

/** Which alarm a condition stands for. */
interface Target {
  station: string;
  /** the alarm's code, e.g. `JAM` */
  code: string;
}

type MethodFn = (args: unknown[], ctx: ISessionContext, cb: (err: Error | null, result?: { statusCode: unknown }) => void) => void;

/** The conditions of a line; `onEvents` feeds them from the drained event log. */
export interface LineAlarms {
  /** condition count */
  readonly size: number;
  onEvents(events: readonly SimEvent[]): void;
}

/**
 * The line's conditions. A condition node is created the first time its alarm is raised (or
 * at start when it is already active): clients learn of conditions through events and
 * ConditionRefresh, and a line of 100,000 tags has thousands of alarm definitions that
 * would otherwise take most of the server's start time and memory.
 */
export function buildAlarms(ns: Namespace, spec: LineSpec, nodes: LineNodes, link: LineLink): LineAlarms {
  const byStation = new Map<string, { source: UAObject; name: string; specs: Map<string, AlarmSpec>; made: Map<string, StationAlarm> }>();
  /** station and alarm code of each condition, by condition NodeId */
  const owner = new Map<string, Target>();
  let size = 0;
  ns.addressSpace.installAlarmsAndConditionsService();
  const ackType = ns.addressSpace.findEventType('AcknowledgeableConditionType') as unknown as { acknowledge?: unknown } | null;
  wrapAcknowledge(ackType?.acknowledge ?? null, (ctx) => owner.get(ctx.object?.nodeId.toString() ?? ''), link);

  const conditionOf = (station: string, code: string): StationAlarm | undefined => {
    const st = byStation.get(station);
    const a = st?.specs.get(code);
    if (st === undefined || a === undefined) return undefined;
    let made = st.made.get(code);
    if (made === undefined) {
      // the condition sits below the station: its subtree is made first
      nodes.subtrees.build(station);
      const node = ns.instantiateAlarmCondition('AlarmConditionType', {
        componentOf: st.source, conditionSource: st.source, browseName: a.code, nodeId: `s=${station}.Alarms.${a.code}`,
        conditionName: a.code, inputNode: NodeId.nullNodeId, optionals: ['ConfirmedState', 'Confirm'],
      });
      node.setEnabledState(true);
      const target: Target = { station, code: a.code };
      wrapAcknowledge(node.acknowledge, () => target, link);
      owner.set(node.nodeId.toString(), target);
      made = { spec: a, node };
      st.made.set(code, made);
      size++;
    }
    return made;
  };

  spec.stations.forEach((st, s) => {
    const source = nodes.stations.get(st.id);
    const kind = machineKind(st.kind);
    if (source === undefined || kind === undefined) return;
    const specs = new Map([...kind.alarms, ...COMMON_ALARMS].map((a) => [a.code, a]));
    byStation.set(st.id, { source, name: st.name.en, specs, made: new Map() });
    const active = link.reader.readConsistent(() => link.reader.read(s, 'alarms')).value;
    for (const a of specs.values()) {
      if ((active & (1 << a.bit)) === 0) continue;
      const c = conditionOf(st.id, a.code);
      if (c !== undefined) raise(c.node, a, st.name.en);
    }
  });
  return {
    get size() {
      return size;
    },
    onEvents(events) {
      for (const e of events) {
        if (e.station === null) continue;
        const st = byStation.get(e.station);
        if (st === undefined) continue;
        if (e.type === 'alarm') {
          const c = conditionOf(e.station, String(e.data.code));
          if (c !== undefined) raise(c.node, c.spec, st.name);
        } else if (e.type === 'alarm-clear') {
          const c = st.made.get(String(e.data.code));
          if (c !== undefined) clear(c.node, c.spec);
        } else if (e.type === 'alarm-ack') {
          const bits = Number(e.data.bits);
          for (const c of st.made.values()) if ((bits & (1 << c.spec.bit)) !== 0) acknowledgeHere(c.node, String(e.data.principal));
        }
      }
    },
  };
}

function raise(node: UAAlarmConditionEx, a: AlarmSpec, station: string): void {
  node.activateAlarm();
  node.raiseNewCondition({ message: `${station}: ${a.text.en}`, severity: a.severity, retain: true });
}

function clear(node: UAAlarmConditionEx, a: AlarmSpec): void {
  const acked = node.currentBranch().getAckedState();
  node.deactivateAlarm(!acked);
  node.raiseNewCondition({ message: `${a.text.en} (cleared)`, severity: a.severity, retain: !acked });
}

function acknowledgeHere(node: UAAlarmConditionEx, principal: string): void {
  const branch = node.currentBranch();
  if (!node.activeState.getValue() || branch.getAckedState()) return;
  node.acknowledgeAndAutoConfirmBranch(branch, `acknowledged by ${principal}`);
}

/**
 * node-opcua binds Acknowledge (on the condition type, which clients call as i=9111, and on
 * each instance) with a handler that does not expose the caller; wrapping it keeps the OPC UA
 * behaviour and sends the `ack` of the condition's own alarm to the station on behalf of the
 * session (audited by the line with the session's principal, role and `source: 'opcua'`).
 */
function wrapAcknowledge(method: unknown, targetOf: (ctx: ISessionContext) => Target | undefined, link: LineLink): void {
  const m = method as { _asyncExecutionFunction?: MethodFn; bindMethod(fn: MethodFn): void; nodeId: { toString(): string } } | null;
  const inner = m?._asyncExecutionFunction;
  if (m === null || inner === undefined) return;
  link.routed.calls.add(m.nodeId.toString());
  m.bindMethod(function (this: unknown, args, ctx, cb) {
    const target = targetOf(ctx);
    if (target !== undefined && !link.authorize(ctx, 'call', `${target.station}.Alarms.${target.code}.Acknowledge`)) {
      cb(null, { statusCode: StatusCodes.BadUserAccessDenied });
      return;
    }
    inner.call(this, args, ctx, (err, result) => {
      const code = result?.statusCode as { isGood?: () => boolean } | undefined;
      if (err === null && code?.isGood?.() === true && target !== undefined) {
        link.send(target.station, 'ack', { alarm: target.code }, ctx).then(() => cb(err, result), () => cb(err, result));
      } else cb(err, result);
    });
  });
}
