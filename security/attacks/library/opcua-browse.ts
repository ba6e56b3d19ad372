/**
 * Point and tag identification on OPC UA: with a session, walk the line's address space and
 * list its stations, tags (setpoints among them) and the commands offered as methods.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import type { Found } from '../clients/opcua.ts';
import { trail } from './common.ts';

export const opcuaBrowse: Attack = {
  id: 'opcua-browse',
  title: 'OPC UA browse: the line\'s stations, tags and command methods',
  techniques: [T.pointAndTagIdentification],
  face: 'opcua',
  preconditions: ['a session: anonymous, or an account the attacker holds (--user, --password)'],
  steps: ['open a session through the weakest endpoint that admits the identity', 'read the namespace table', 'browse from Objects through the line\'s namespace'],
  expectedImpact: 'none on the process; the attacker learns every point, tag and command of the line',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { browseLine, openSession, reason, writableBy } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    const f = await openSession(ctx, evidence);
    if (f === null) {
      await trail(ctx, evidence, true);
      return { outcome: 'blocked', evidence, impact: { tags: 0 } };
    }
    let found: Found[] = [];
    let writable = new Set<string>();
    try {
      if (f.ns < 0) evidence.push('OPC UA: no line namespace (urn:twinline:…) in the namespace table');
      found = f.ns < 0 ? [] : await browseLine(f);
      // what this session may change: the setpoints an attacker goes for
      writable = await writableBy(f, found.filter((n) => n.nodeClass === 'Variable').map((n) => n.nodeId));
    } catch (e) {
      evidence.push(`OPC UA: browse refused: ${reason(e)}`);
    } finally {
      await f.close();
    }
    const methods = found.filter((n) => n.nodeClass === 'Method');
    const variables = found.filter((n) => n.nodeClass === 'Variable');
    // a station is an object with a PackML child
    const stations = found.filter((n) => n.nodeClass === 'Object' && found.some((c) => c.nodeId === `${n.nodeId}.PackML`));
    evidence.push(`OPC UA: browsed ${found.length} nodes: ${stations.length} stations (${stations.map((s) => s.name).join(', ')}), ${variables.length} variables, ${methods.length} methods`);
    const aimed = variables.filter((v) => v.nodeId.includes(`;s=${ctx.station}.`) && !v.nodeId.includes('.PackML.'));
    const settable = aimed.filter((v) => writable.has(v.nodeId)).map((v) => v.name);
    if (aimed.length > 0) evidence.push(`OPC UA: ${ctx.station}: ${aimed.length} tags; tags this session may write: ${settable.length === 0 ? 'none' : settable.join(', ')}`);
    await trail(ctx, evidence, variables.length === 0);
    return {
      outcome: variables.length > 0 ? 'succeeded' : 'blocked',
      evidence,
      impact: { stations: stations.length, variables: variables.length, methods: methods.length, writable: writable.size, stationTags: aimed.length, stationWritable: settable.length },
    };
  },
  async cleanup() {
    // nothing on the line changed
  },
};
