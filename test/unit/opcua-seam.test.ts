// The seam around node-opcua's internals (sim/protocols/opcua/seam.ts): what it replaces must
// still exist in the installed node-opcua (an upgrade that moves it fails here, loudly), and
// the replaced behaviour holds on a real address space. Also the face's audit throttle and
// range check, which need no server.
import { describe, expect, it } from 'vitest';
import type { HistoryData} from 'node-opcua';
import {
  AddressSpace, AttributeIds, ContinuationPointManager, DataType, DataValue, NodeId, OPCUAServer, OPCUAServerEndPoint, ReadRawModifiedDetails,
  ServerSecureChannelLayer, SessionContext, StatusCodes, Variant, generateAddressSpace, makeAccessLevelFlag, nodesets, type ISessionContext, type IVariableHistorian,
  type UAVariable,
} from 'node-opcua';
import { AuditThrottle } from '../../sim/host/audit-throttle.ts';
import { outOfRange } from '../../sim/protocols/opcua/address-space.ts';
import { buildOnFirstLook, buildOnMissingNodeId, historicalLike, routeValueWrites, userAccessLevelBy } from '../../sim/protocols/opcua/seam.ts';

describe('node-opcua internals the seam replaces', () => {
  it('are where the seam expects them', () => {
    const methods: [string, unknown][] = [
      ['OPCUAServer.isValidUserIdentityToken', (OPCUAServer.prototype as unknown as Record<string, unknown>).isValidUserIdentityToken],
      ['OPCUAServerEndPoint._preregisterChannel', (OPCUAServerEndPoint.prototype as unknown as Record<string, unknown>)._preregisterChannel],
      ['ServerSecureChannelLayer.checkCertificate', (ServerSecureChannelLayer.prototype as unknown as Record<string, unknown>).checkCertificate],
      ['ServerSecureChannelLayer.send_response', (ServerSecureChannelLayer.prototype as unknown as Record<string, unknown>).send_response],
    ];
    for (const [name, fn] of methods) expect(typeof fn, `${name} (update sim/protocols/opcua/seam.ts)`).toBe('function');
    // the server checks identity tokens with (channel, session, token, signature, endpoint, callback)
    expect((OPCUAServer.prototype as unknown as { isValidUserIdentityToken: { length: number } }).isValidUserIdentityToken.length).toBe(6);
  });

  it('routes Value writes and answers UserAccessLevel per session on a real variable', async () => {
    const as = AddressSpace.create();
    try {
      await generateAddressSpace(as, [nodesets.standard]);
      const ns = as.registerNamespace('urn:twinline:seam-test');
      const v = ns.addVariable({
        organizedBy: as.rootFolder.objects, browseName: 'x', dataType: 'Double',
        accessLevel: makeAccessLevelFlag('CurrentRead | CurrentWrite'), userAccessLevel: makeAccessLevelFlag('CurrentRead | CurrentWrite'),
        value: { dataType: DataType.Double, value: 1 },
      });
      const written: number[] = [];
      routeValueWrites(v, async (_ctx, dv, ranged) => {
        if (ranged) return StatusCodes.BadWriteNotSupported;
        written.push(dv.value.value as number);
        return StatusCodes.BadOutOfRange;
      });
      userAccessLevelBy(v, () => 1);
      const session = { getSessionId: () => new NodeId(), continuationPointManager: {} };
      const ctx = new SessionContext({ session: session as never }) as ISessionContext;
      const status = await v.writeAttribute(ctx, { attributeId: AttributeIds.Value, value: new DataValue({ value: new Variant({ dataType: DataType.Double, value: 7 }) }) });
      expect(status.name).toBe('BadOutOfRange');
      expect(written).toEqual([7]);
      expect(v.readAttribute(ctx, AttributeIds.UserAccessLevel).value.value).toBe(1);
      // without a session (the server's own reads) node-opcua answers as before
      expect(v.readAttribute(SessionContext.defaultContext as unknown as ISessionContext, AttributeIds.UserAccessLevel).value.value).toBe(3);
    } finally {
      as.dispose();
    }
  }, 60_000);
});

describe('nodes made when first needed', () => {
  it('makes a node\'s children when its references are first read, and a missing NodeId when it is looked up', async () => {
    const as = AddressSpace.create();
    try {
      await generateAddressSpace(as, [nodesets.standard]);
      const ns = as.registerNamespace('urn:twinline:seam-test');
      const parent = ns.addObject({ organizedBy: as.rootFolder.objects, browseName: 'p', nodeId: 's=p' });
      let made = 0;
      const make = (): void => {
        made++;
        ns.addVariable({ componentOf: parent, browseName: 'x', nodeId: 's=p.x', dataType: 'Double' });
      };
      buildOnFirstLook(parent, make);
      expect(made).toBe(0);
      expect(parent.getChildByName('x')?.nodeId.toString()).toBe(`ns=${ns.index};s=p.x`);
      expect(parent.getComponents()).toHaveLength(1);
      expect(made).toBe(1);
      const asked: string[] = [];
      buildOnMissingNodeId(ns, (id) => {
        asked.push(String(id.value));
        if (id.value !== 'q') return false;
        ns.addObject({ organizedBy: as.rootFolder.objects, browseName: 'q', nodeId: 's=q' });
        return true;
      });
      expect(as.findNode(`ns=${ns.index};s=q`)?.browseName.name).toBe('q');
      expect(as.findNode(`ns=${ns.index};s=none`)).toBeNull();
      expect(as.findNode(`ns=${ns.index};s=p.x`)).not.toBeNull();
      expect(asked).toEqual(['q', 'none']);
    } finally {
      as.dispose();
    }
  }, 60_000);
});

describe('a variable made historical like another', () => {
  it('shares its HA Configuration and answers HistoryRead from its own historian', async () => {
    const as = AddressSpace.create();
    try {
      await generateAddressSpace(as, [nodesets.standard]);
      const ns = as.registerNamespace('urn:twinline:seam-history');
      const make = (name: string): UAVariable => ns.addVariable({
        organizedBy: as.rootFolder.objects, browseName: name, dataType: 'Double', accessLevel: makeAccessLevelFlag('CurrentRead'), userAccessLevel: makeAccessLevelFlag('CurrentRead'),
        value: { dataType: DataType.Double, value: 0 },
      });
      const store = (v: number): IVariableHistorian => ({
        push: () => Promise.resolve(),
        extractDataValues: (_d, _max, _rev, _revValues, done) => done(null, [new DataValue({ value: new Variant({ dataType: DataType.Double, value: v }), sourceTimestamp: new Date(1000), statusCode: StatusCodes.Good })]),
      });
      const a = make('a');
      const b = make('b');
      as.installHistoricalDataNode(a, { historian: store(1) });
      historicalLike(a, b, store(2));
      expect(b.historizing).toBe(true);
      expect(b.accessLevel & 0x05).toBe(0x05);
      const config = (n: UAVariable): string[] => n.findReferencesAsObject('HasHistoricalConfiguration', true).map((o) => o.nodeId.toString());
      expect(config(b)).toEqual(config(a));
      expect(config(a)).toHaveLength(1);
      const session = { getSessionId: () => new NodeId(), continuationPointManager: new ContinuationPointManager() };
      const ctx = new SessionContext({ session: session as never }) as ISessionContext;
      const read = async (v: UAVariable): Promise<unknown[]> => {
        const r = await v.historyRead(ctx, new ReadRawModifiedDetails({ startTime: new Date(0), endTime: new Date(5000), isReadModified: false }), null, null, { continuationPoint: null });
        return ((r.historyData as HistoryData).dataValues ?? []).map((d) => d.value.value as unknown);
      };
      expect(await read(a)).toEqual([1]);
      expect(await read(b)).toEqual([2]);
    } finally {
      as.dispose();
    }
  }, 60_000);
});

describe('audit throttle', () => {
  it('lets one entry per key through per window and counts the rest', () => {
    let now = 0;
    const t = new AuditThrottle(60_000, () => now);
    expect(t.pass('a')).toBe(0);
    for (let k = 0; k < 41; k++) expect(t.pass('a')).toBeNull();
    expect(t.pass('b')).toBe(0);
    now = 60_000;
    expect(t.pass('a')).toBe(41);
    expect(AuditThrottle.note('refused', 41, 60_000)).toBe('refused (and 41 more like it in the 60 s before, not logged one by one)');
    expect(AuditThrottle.note('refused', 0, 60_000)).toBe('refused');
  });

  it('forgets the oldest keys beyond its bound', () => {
    const t = new AuditThrottle(60_000, () => 0, 3);
    for (const k of ['a', 'b', 'c', 'd']) t.pass(k);
    expect(t.pass('a')).toBe(0); // forgotten: passes again
    expect(t.pass('d')).toBeNull();
  });
});

describe('engineering range check of writes', () => {
  it('refuses values outside the declared EURange and every non-finite number', () => {
    const range = { low: 0, high: 1e8 };
    expect(outOfRange(150_000, range, 'W')).toBeNull();
    expect(outOfRange(0, range, 'W')).toBeNull();
    expect(outOfRange(1e9, range, 'W')).toBe('1000000000 W is outside the engineering range [0, 100000000]');
    expect(outOfRange(-1, range, '')).toBe('-1 is outside the engineering range [0, 100000000]');
    expect(outOfRange(Number.NaN, null, 'W')).toBe('NaN is not a finite number');
    expect(outOfRange(Number.POSITIVE_INFINITY, null, 'W')).toBe('Infinity is not a finite number');
    expect(outOfRange(Number.NEGATIVE_INFINITY, range, 'W')).toBe('-Infinity is not a finite number');
    expect(outOfRange(1e300, null, 'W')).toBeNull();
  });
});
