// The hardened OPC UA face against what a security team tries first, with a real node-opcua
// server over a real simulation worker and real node-opcua clients over loopback: discovery,
// untrusted application certificates, foreign user certificates, password guessing, writes
// beyond a role or a range, and the Shutdown notice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds, ClientMonitoredItem, ClientSubscription, DataType, MessageSecurityMode, OPCUAClient, SecurityPolicy, TimestampsToReturn,
  OPCUACertificateManager, UserTokenType, Variant, type ClientSession, type UserIdentityInfo,
} from 'node-opcua';
import type { SimEvent } from '../../sim/core/events.ts';
import { AccountStore } from '../../sim/host/accounts.ts';
import { filesHolding, leafThumbprint } from '../../sim/protocols/opcua/pki-files.ts';
import { profileSetup } from '../../sim/protocols/opcua/security.ts';
import { LoginGuard } from '../../sim/host/login-guard.ts';
import { clientPki, sleep, startFaceHost, trust, userCertificate, waitFor, type FaceHost } from './opcua-host.ts';

const SCENARIO = 'scenarios/ceramic-after.yaml';
const PW = { operator: 'operator-pass-1', engineer: 'engineer-pass-1', viewer: 'viewer-pass-01', gateway: 'gateway-pass-1' };
const accounts = AccountStore.fromClear((Object.keys(PW) as (keyof typeof PW)[]).map((user) => ({ user, password: PW[user], role: user })));
/** small back-off timings: 3 free failures, then 5 s */
const BACKOFF_MS = 5000;
const guard = new LoginGuard({ free: 3, peerFree: 3, baseMs: BACKOFF_MS, maxMs: BACKOFF_MS });

let tmp = '';
let xdg = '';
let oldXdg: string | undefined;
let host: FaceHost;
let trusted: { manager: OPCUACertificateManager; certificateFile: string };
let stranger: { manager: OPCUACertificateManager; certificateFile: string };
type UserCert = Awaited<ReturnType<typeof userCertificate>>;
/** self-signed user certificates: the attacker's (trusted nowhere), one trusted but unmapped, one trusted and mapped to the viewer account */
let attacker: UserCert;
let unmapped: UserCert;
let insider: UserCert;
let ns = 0;
const clients: OPCUAClient[] = [];

const id = (s: string): string => `ns=${ns};s=${s}`;
const audits = (pred: (d: Record<string, unknown>) => boolean): SimEvent[] => host.events.filter((e) => e.type === 'audit' && e.data.source === 'opcua' && pred(e.data));

function client(pki: { manager: OPCUACertificateManager }, maxRetry = 1): OPCUAClient {
  const c = OPCUAClient.create({
    endpointMustExist: false, connectionStrategy: { maxRetry, initialDelay: 100, maxDelay: 300 }, clientCertificateManager: pki.manager,
    applicationUri: 'urn:twinline:test-client', securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256,
  });
  clients.push(c);
  return c;
}

async function login(identity: UserIdentityInfo): Promise<ClientSession> {
  const c = client(trusted);
  await c.connect(host.face.endpoint);
  try {
    return await c.createSession(identity);
  } catch (e) {
    await c.disconnect();
    throw e;
  }
}

const as = (user: keyof typeof PW, password: string = PW[user]): UserIdentityInfo => ({ type: UserTokenType.UserName, userName: user, password });
const double = (value: number): Variant => new Variant({ dataType: DataType.Double, value });
const write = async (s: ClientSession, tag: string, value: Variant): Promise<string> =>
  (await s.write({ nodeId: id(tag), attributeId: AttributeIds.Value, value: { value } })).name;
const userAccess = async (s: ClientSession, tag: string): Promise<number> =>
  (await s.read({ nodeId: id(tag), attributeId: AttributeIds.UserAccessLevel })).value.value as number;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'twinline-opcua-sec-'));
  // node-opcua's per-machine default PKI lives under the config folder: point it at an empty one to see that nothing uses it
  xdg = join(tmp, 'xdg');
  oldXdg = process.env.XDG_CONFIG_HOME;
  process.env.XDG_CONFIG_HOME = xdg;
  trusted = await clientPki(join(tmp, 'client-pki'));
  stranger = await clientPki(join(tmp, 'stranger-pki'));
  // every one claims to be an operator in its subject
  attacker = await userCertificate(join(tmp, 'attacker'), 'operator');
  unmapped = await userCertificate(join(tmp, 'unmapped'), 'operator');
  insider = await userCertificate(join(tmp, 'insider'), 'operator');
  host = await startFaceHost({
    scenario: SCENARIO, profile: 'hardened', accounts, guard, shutdownMs: 1500,
    prepare: (run) => {
      trust(trusted.certificateFile, join(run, 'pki'));
      trust(unmapped.file, join(run, 'pki-users'));
      trust(insider.file, join(run, 'pki-users'));
    },
  });
  const s = await login(as('viewer'));
  ns = ((await s.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[]).indexOf('urn:twinline:ceramic-after');
  await s.close();
}, 180_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await host?.close();
  await trusted?.manager.dispose();
  await stranger?.manager.dispose();
  if (oldXdg === undefined) delete process.env.XDG_CONFIG_HOME;
  else process.env.XDG_CONFIG_HOME = oldXdg;
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe('OPC UA face, hardened profile', () => {
  it('offers SignAndEncrypt with the modern policies only, no anonymous token, and names no scenario in discovery or in its certificate', async () => {
    const c = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 }, clientCertificateManager: trusted.manager });
    clients.push(c);
    await c.connect(host.face.endpoint); // discovery only: a None channel with no sessions
    const servers = await c.findServers();
    const eps = await c.getEndpoints();
    await expect(c.createSession()).rejects.toThrow();
    await c.disconnect();
    expect(servers.map((s) => [s.applicationName.text, s.productUri])).toEqual([['Twinline OPC UA server', 'urn:twinline']]);
    const sessionEps = eps.filter((e) => (e.userIdentityTokens ?? []).length > 0);
    expect(new Set(sessionEps.map((e) => e.securityMode))).toEqual(new Set([MessageSecurityMode.SignAndEncrypt]));
    expect(sessionEps.map((e) => (e.securityPolicyUri ?? '').split('#')[1]).sort()).toEqual(['Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss', 'Basic256Sha256']);
    for (const e of sessionEps) expect((e.userIdentityTokens ?? []).map((t) => t.tokenType)).not.toContain(UserTokenType.Anonymous);
    for (const e of eps) expect(e.server.applicationName.text).toBe('Twinline OPC UA server');
    const subject = new X509Certificate(eps[0]!.serverCertificate).subject;
    expect(subject).toMatch(/^CN=Twinline OPC UA server@/m);
    // what a scanner sees names neither the scenario's title nor its id nor the plant
    const seen = JSON.stringify([servers, eps.map((e) => ({ ...e, serverCertificate: null }))]) + subject;
    for (const secret of ['ceramic', 'Ceramic', 'inspection', 'Yinhe', 'Liling']) expect(seen).not.toContain(secret);
  });

  it('answers an untrusted application certificate with BadCertificateUntrusted at once, audited once per certificate, not per retry', async () => {
    const started = Date.now();
    for (let k = 0; k < 3; k++) {
      const c = client(stranger, 2);
      const t0 = Date.now();
      await expect(c.connect(host.face.endpoint)).rejects.toThrow(/BadCertificateUntrusted/);
      expect(Date.now() - t0).toBeLessThan(8000);
      await c.disconnect();
    }
    const thumb = new X509Certificate(readFileSync(stranger.certificateFile)).fingerprint.replaceAll(':', '').toLowerCase();
    await sleep(1500); // node-opcua closes a refused channel 1 s after its answer; its failure must not add entries
    const mine = audits((d) => String(d.principal).includes(thumb));
    console.log(`3 refused connects in ${Date.now() - started} ms: ${mine.length} audit entries`);
    expect(mine.length).toBeGreaterThanOrEqual(1);
    expect(mine.length).toBeLessThanOrEqual(3);
    expect(mine[0]!.data).toMatchObject({ action: 'channel', outcome: 'denied' });
    expect(String(mine[0]!.data.reason)).toContain('BadCertificateUntrusted');
    // the certificate waits in pki/rejected for an administrator to trust it
    expect(readdirSync(join(host.runDir, 'pki', 'rejected')).length).toBeGreaterThan(0);
  });

  it('accepts a refused certificate once it is in the trusted folder, though its refused copy is still indexed', async () => {
    // node-opcua's index says rejected while the copy in pki/rejected stays (a watcher that
    // missed its removal leaves the same index); the trusted folder is the operator's word
    const pki = join(host.runDir, 'pki');
    const thumb = leafThumbprint(readFileSync(stranger.certificateFile));
    expect(filesHolding(join(pki, 'rejected'), thumb).length).toBeGreaterThan(0);
    trust(stranger.certificateFile, pki);
    try {
      const c = client(stranger, 2);
      await c.connect(host.face.endpoint);
      const s = await c.createSession(as('viewer'));
      expect((await s.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).statusCode.name).toBe('Good');
      await s.close();
      await c.disconnect();
    } finally {
      for (const f of filesHolding(join(pki, 'trusted', 'certs'), thumb)) rmSync(f);
    }
  });

  it('opens sessions only for accounts: no anonymous, no wrong password; a viewer or gateway reads but may not write or call, audited', async () => {
    const c = client(trusted);
    await c.connect(host.face.endpoint);
    await expect(c.createSession()).rejects.toThrow();
    await expect(c.createSession(as('operator', 'wrong-password'))).rejects.toThrow(/BadUserAccessDenied/);
    await c.disconnect();
    for (const user of ['viewer', 'gateway'] as const) {
      const v = await login(as(user));
      expect((await v.read({ nodeId: id('kiln.maxPower'), attributeId: AttributeIds.Value })).statusCode.name).toBe('Good');
      expect(await write(v, 'kiln.maxPower', double(140_000))).toBe('BadUserAccessDenied');
      const call = await v.call({ objectId: id('kiln.PackML'), methodId: id('kiln.PackML.Stop'), inputArguments: [] });
      expect(call.statusCode.name).toBe('BadUserAccessDenied');
      expect(await userAccess(v, 'kiln.maxPower')).toBe(1); // CurrentRead only
      await v.close();
    }
    await waitFor('audits', () => audits((d) => d.action === 'call' && d.target === 'kiln.PackML.Stop').length, (n) => n >= 2);
    expect(audits((d) => d.action === 'login' && String(d.principal).startsWith('operator@127.0.0.1'))[0]?.data.reason).toBe('bad user name or password');
    expect(audits((d) => d.action === 'session' && d.outcome === 'denied' && String(d.principal).startsWith('operator@127.0.0.1:'))[0]?.data.reason).toBe('BadUserAccessDenied');
    expect(String(audits((d) => d.action === 'write' && d.target === 'kiln.maxPower')[0]?.data.reason)).toContain('viewer role');
    expect(audits((d) => d.action === 'write' && d.target === 'kiln.maxPower' && String(d.reason).includes('gateway role')).length).toBe(1);
    expect(host.events.some((e) => e.type === 'command' && e.data.source === 'opcua' && String(e.data.args).includes('140000'))).toBe(false);
  });

  it('refuses an operator the kiln\'s trip and power limits, shows them read-only to it, and lets it run PackML', async () => {
    const op = await login(as('operator'));
    expect(await userAccess(op, 'kiln.tripTemp')).toBe(1);
    expect(await userAccess(op, 'kiln.maxPower')).toBe(1);
    expect(await write(op, 'kiln.tripTemp', double(1950))).toBe('BadUserAccessDenied');
    expect(await write(op, 'kiln.maxPower', double(4.5e6))).toBe('BadUserAccessDenied');
    // a PackML command is the operator's: refused only by the state machine (the kiln executes already)
    const start = await op.call({ objectId: id('kiln.PackML'), methodId: id('kiln.PackML.Start'), inputArguments: [] });
    expect(['Good', 'BadInvalidState']).toContain(start.statusCode.name);
    const principal = `operator@${op.sessionId.toString()}`;
    await op.close();
    for (const field of ['tripTemp', 'maxPower']) {
      const e = await host.waitEvent(`${field} refusal`, (ev) => ev.type === 'rejected' && ev.station === 'kiln' && String(ev.data.args).includes(`"${field}"`));
      expect(e.data).toMatchObject({ source: 'opcua', role: 'operator', code: 'NOT_AUTHORIZED' });
      expect(String(e.data.principal)).toMatch(new RegExp(`^${principal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}#[0-9a-f]{40}$`));
    }
    const s = await host.waitEvent('start', (ev) => ev.station === 'kiln' && ev.data.command === 'start' && ev.data.source === 'opcua');
    expect(s.data.role).toBe('operator');
    expect(s.data.code).not.toBe('NOT_AUTHORIZED');
  });

  it('checks every write against the engineering range it declares: out of range, NaN and ±Infinity refused with BadOutOfRange and audited', async () => {
    const eng = await login(as('engineer'));
    expect(await userAccess(eng, 'kiln.maxPower')).toBe(3);
    expect(await write(eng, 'kiln.maxPower', double(140_000))).toBe('Good');
    await waitFor('maxPower', async () => (await eng.read({ nodeId: id('kiln.maxPower'), attributeId: AttributeIds.Value })).value.value, (v) => v === 140_000);
    for (const bad of [1e9, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(await write(eng, 'kiln.maxPower', double(bad)), String(bad)).toBe('BadOutOfRange');
    }
    await eng.close();
    const refused = await waitFor('range audits', () => audits((d) => d.action === 'write' && d.target === 'kiln.maxPower' && String(d.principal).startsWith('engineer@')), (a) => a.length >= 5);
    const reasons = refused.map((e) => String(e.data.reason));
    expect(reasons).toContain('maxPower = 1000000000 W is outside the engineering range [0, 5000000]');
    expect(reasons).toContain('maxPower = -1 W is outside the engineering range [0, 5000000]');
    for (const text of ['NaN', 'Infinity', '-Infinity']) expect(reasons).toContain(`maxPower = ${text} is not a finite number`);
    // none of them reached the line
    expect(host.events.some((e) => e.station === 'kiln' && e.data.command === 'set' && /1000000000|NaN|Infinity|"value":-1/.test(String(e.data.args)))).toBe(false);
  });

  it('refuses a self-signed user certificate with CN=operator (untrusted, or trusted but mapped to no account); a trusted, mapped one logs in as its account', async () => {
    const x509 = (u: UserCert): UserIdentityInfo => ({ type: UserTokenType.Certificate, certificateData: u.der, privateKey: u.privateKey });
    await expect(login(x509(attacker))).rejects.toThrow(/BadIdentityTokenRejected|BadUserAccessDenied/);
    await expect(login(x509(unmapped))).rejects.toThrow(/BadIdentityTokenRejected|BadUserAccessDenied/);
    // no session, so no PackML Reset: nothing in the line's log from either
    expect(host.events.some((e) => e.type === 'command' && e.data.command === 'reset' && e.data.source === 'opcua')).toBe(false);
    const refused = await waitFor('certificate audits', () => audits((d) => d.action === 'login' && String(d.reason).includes('user certificate')), (a) => a.length >= 2);
    expect(String(refused.find((e) => String(e.data.reason).includes(attacker.thumbprint))?.data.reason)).toContain('not in the user-certificate trust list');
    expect(String(refused.find((e) => String(e.data.reason).includes(unmapped.thumbprint))?.data.reason)).toContain('mapped to no account');
    for (const e of refused) expect(String(e.data.principal)).toMatch(/^x509:[0-9a-f]{16}@127\.0\.0\.1:/);
    // the account, not the certificate's CN, decides: this "operator" is the viewer
    accounts.mapCertificate('viewer', insider.thumbprint);
    const v = await login(x509(insider));
    expect(await userAccess(v, 'kiln.maxPower')).toBe(1);
    expect(await write(v, 'kiln.maxPower', double(130_000))).toBe('BadUserAccessDenied');
    await v.close();
    const allowed = await waitFor('session audit', () => audits((d) => d.action === 'session' && d.outcome === 'allowed' && String(d.principal).startsWith('viewer@')), (a) => a.length >= 2);
    expect(allowed.length).toBeGreaterThanOrEqual(2);
    const denied = await waitFor('write audit', () => audits((d) => d.action === 'write' && d.target === 'kiln.maxPower' && String(d.reason).includes('viewer role') && String(d.principal).includes('#')), (a) => a.length >= 2);
    expect(String(denied.at(-1)?.data.principal)).toMatch(/^viewer@/);
  });

  it('backs off failed logins per user and per peer: after the free attempts even the right password is refused until the back-off ends, audited', async () => {
    const c = client(trusted);
    await c.connect(host.face.endpoint);
    // a success clears what the tests before left
    await (await c.createSession(as('operator'))).close();
    let last = 0;
    for (let k = 0; k < 4; k++) {
      await expect(c.createSession(as('operator', `guess-${k}`))).rejects.toThrow(/BadUserAccessDenied/);
      last = Date.now();
    }
    await expect(c.createSession(as('operator'))).rejects.toThrow(/BadUserAccessDenied/);
    // per peer: another account from the same address waits too
    await expect(c.createSession(as('engineer'))).rejects.toThrow(/BadUserAccessDenied/);
    expect(Date.now() - last).toBeLessThan(BACKOFF_MS);
    const blocked = await waitFor('back-off audit', () => audits((d) => d.action === 'login' && String(d.reason).startsWith('too many failed logins')), (a) => a.length >= 1);
    expect(String(blocked[0]!.data.principal)).toMatch(/^operator@127\.0\.0\.1:/);
    await sleep(BACKOFF_MS - (Date.now() - last) + 300);
    const s = await c.createSession(as('operator'));
    await s.close();
    await c.disconnect();
  });

  it('never falls back to node-opcua\'s per-machine default PKI folder', () => {
    expect(() => readdirSync(xdg)).toThrow(/ENOENT/);
  });

  it('tells a subscribed client the server is shutting down (State Shutdown, SecondsTillShutdown) before the connection drops', async () => {
    const s = await login(as('viewer'));
    const sub = ClientSubscription.create(s, {
      requestedPublishingInterval: 100, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 100, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1,
    });
    await new Promise<void>((r) => sub.once('started', () => r()));
    const seen: { state?: number; secondsTillShutdown?: number; at: number }[] = [];
    const monitor = async (nodeId: string, key: 'state' | 'secondsTillShutdown'): Promise<void> => {
      const item = ClientMonitoredItem.create(sub, { nodeId, attributeId: AttributeIds.Value }, { samplingInterval: 100, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
      item.on('changed', (dv) => seen.push({ [key]: dv.value.value as number, at: Date.now() }));
      await new Promise<void>((r) => item.once('initialized', () => r()));
    };
    await monitor('ns=0;i=2259', 'state'); // Server.ServerStatus.State
    await monitor('ns=0;i=2992', 'secondsTillShutdown');
    await waitFor('Running', () => seen.some((v) => v.state === 0), (ok) => ok);
    const closing = host.face.close();
    await closing;
    const closedAt = Date.now();
    const shutdown = seen.find((v) => v.state === 4);
    expect(shutdown, JSON.stringify(seen)).toBeDefined();
    expect(shutdown!.at).toBeLessThanOrEqual(closedAt);
    expect(seen.some((v) => (v.secondsTillShutdown ?? 0) >= 1)).toBe(true);
  });
});

describe('OPC UA server certificate', () => {
  it('sets aside a certificate that names a scenario (made by an older Twinline), so a neutral one is made', async () => {
    const run = join(tmp, 'old-home');
    const old = new OPCUACertificateManager({ rootFolder: join(run, 'pki'), automaticallyAcceptUnknownCertificate: false });
    await old.initialize();
    const file = join(run, 'pki', 'own', 'certs', 'certificate.pem');
    await old.createSelfSignedCertificate({
      applicationUri: 'urn:twinline:server', subject: '/CN=Twinline Ceramic inspection line@host', dns: [], ip: [], startDate: new Date(), validity: 30, outputFile: file,
    });
    await old.dispose();
    const setup = await profileSetup({ profile: 'hardened', runDir: run, accounts });
    await (setup.options.serverCertificateManager as OPCUACertificateManager).dispose();
    await (setup.options.userCertificateManager as OPCUACertificateManager).dispose();
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
    expect(setup.notes.join('\n')).toContain('named "Twinline Ceramic inspection line@host"; a new one names "Twinline OPC UA server"');
    expect(readdirSync(join(run, 'pki', 'own')).some((f) => f.startsWith('certificate-retired-'))).toBe(true);
  });
});
