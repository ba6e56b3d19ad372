/**
 * The host's security parts on their own: the account store (on disk), the login back-off,
 * the HTTP front door's Host and Origin checks, and the run log's rotation and paging.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { AccountStore, thumbprint } from '../../sim/host/accounts.ts';
import { accountsCommand } from '../../sim/host/accounts-cli.ts';
import { LoginGuard } from '../../sim/host/login-guard.ts';
import { HostNames } from '../../sim/host/http-guard.ts';
import { RunLog } from '../../sim/host/run-log.ts';
import type { SimEvent } from '../../sim/core/events.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'twinline-unit-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('account store', () => {
  it('creates one account per role with random passwords, readable by the owner only', async () => {
    const home = tmp();
    const store = AccountStore.open(home, { create: true });
    expect(store.list().map((a) => a.role)).toEqual(['viewer', 'operator', 'engineer', 'instructor', 'gateway']);
    expect(statSync(store.file).mode & 0o077).toBe(0);
    const lines = readFileSync(join(home, 'initial-passwords.txt'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const [user, role, pw] = lines[1]!.split('\t');
    expect([user, role]).toEqual(['operator', 'operator']);
    expect(await store.verifyAsync('operator', pw!)).toEqual({ user: 'operator', role: 'operator' });
    expect(await store.verifyAsync('operator', 'wrong password')).toBeNull();
    expect(await store.verifyAsync('nobody', pw!)).toBeNull();
    // the file holds no password
    expect(readFileSync(store.file, 'utf8')).not.toContain(pw);
    // opening again reuses the file and creates nothing
    expect(AccountStore.open(home, { create: true }).created).toEqual([]);
  });

  it('sees a change another process made (revoke, role, certificate) without reopening', async () => {
    const home = tmp();
    const running = AccountStore.open(home, { create: true });
    const pw = running.created.find((a) => a.user === 'engineer')!.password;
    const cli = AccountStore.open(home, { create: false });
    cli.revoke('engineer');
    // mtime resolution on some file systems is coarse: make the change visible
    const t = new Date(Date.now() + 5000);
    utimesSync(running.file, t, t);
    expect(await running.verifyAsync('engineer', pw)).toBeNull();
    expect(running.roleOf('engineer')).toBeNull();
    cli.reset('engineer', 'a-new-password-1');
    utimesSync(running.file, new Date(Date.now() + 10_000), new Date(Date.now() + 10_000));
    expect(await running.verifyAsync('engineer', 'a-new-password-1')).toEqual({ user: 'engineer', role: 'engineer' });
  });

  it('maps a certificate to one account by thumbprint only', () => {
    const store = AccountStore.open(tmp(), { create: true });
    const t = thumbprint(Buffer.from('a certificate'));
    store.mapCertificate('operator', t);
    expect(store.byCertificate(t.toUpperCase())).toEqual({ user: 'operator', role: 'operator' });
    expect(() => store.mapCertificate('viewer', t)).toThrow(/mapped to "operator" already/);
    expect(() => store.mapCertificate('viewer', 'CN=operator')).toThrow(/not a SHA-1 thumbprint/);
    store.revoke('operator');
    expect(store.byCertificate(t)).toBeNull();
  });

  it('names what is wrong with a bad accounts file or request', () => {
    const home = tmp();
    writeFileSync(join(home, 'accounts.json'), '{"users":{"x":{"salt":"00"}}}');
    expect(() => AccountStore.open(home, { create: true })).toThrow(/account "x" needs salt, hash and a role/);
    writeFileSync(join(home, 'accounts.json'), '{not json');
    expect(() => AccountStore.open(home, { create: true })).toThrow(/not valid JSON/);
    expect(() => AccountStore.open(tmp(), { create: false })).toThrow(/no accounts in/);
    const store = AccountStore.open(tmp(), { create: true });
    expect(() => store.add('bad name!', 'viewer')).toThrow(/not valid/);
    expect(() => store.add('someone', 'root' as never)).toThrow(/role "root"/);
    expect(() => store.add('someone', 'viewer', 'short')).toThrow(/at least 10/);
    expect(() => store.add('operator', 'viewer')).toThrow(/exists already/);
  });

  it('twinline accounts: add, list, revoke; bad input is a usage error', async () => {
    const home = tmp();
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, readStdin: () => 'given-on-stdin-1\n' };
    expect(accountsCommand(['add', 'trainee1', 'operator', '--home', home, '--password-stdin'], io)).toBe(0);
    expect(await AccountStore.open(home, { create: false }).verifyAsync('trainee1', 'given-on-stdin-1')).toEqual({ user: 'trainee1', role: 'operator' });
    out = '';
    expect(accountsCommand(['list', '--home', home, '--json'], io)).toBe(0);
    expect((JSON.parse(out) as { accounts: { user: string }[] }).accounts.map((a) => a.user)).toContain('trainee1');
    expect(accountsCommand(['revoke', 'trainee1', '--home', home], io)).toBe(0);
    expect(() => accountsCommand(['add', 'x', 'root', '--home', home], io)).toThrow(/role must be one of/);
    expect(() => accountsCommand(['revoke', '--home', home], io)).toThrow(/takes 1 argument/);
    expect(() => accountsCommand(['revoke', 'ghost', '--home', home], io)).toThrow(/no account "ghost"/);
  });
});

describe('login back-off', () => {
  it('refuses after the free failures, doubling up to the ceiling, and forgets on success', () => {
    let now = 0;
    const g = new LoginGuard({ free: 2, baseMs: 1000, maxMs: 4000, now: () => now });
    g.failed('user:a', 'peer:p');
    g.failed('user:a', 'peer:p');
    expect(g.blockedFor('user:a', 'peer:p')).toBe(0);
    g.failed('user:a', 'peer:p');
    expect(g.blockedFor('user:a', 'peer:p')).toBe(1000);
    // a peer gets more room than a user name (a classroom behind one address)
    expect(g.blockedFor('peer:p')).toBe(0);
    now += 1000;
    g.failed('user:a');
    expect(g.blockedFor('user:a')).toBe(2000);
    for (let k = 0; k < 10; k++) g.failed('user:a');
    expect(g.blockedFor('user:a')).toBe(4000);
    g.succeeded('user:a');
    expect(g.blockedFor('user:a')).toBe(0);
  });

  it('remembers a bounded number of keys', () => {
    const g = new LoginGuard({ maxKeys: 100 });
    for (let k = 0; k < 1000; k++) g.failed(`peer:${k}`);
    expect(g.size).toBe(100);
  });
});

describe('HTTP front door', () => {
  const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;
  it('accepts its own names and origins and refuses others', () => {
    const h = new HostNames('127.0.0.1', 8080, ['twin.lab'], ['http://localhost:5173']);
    expect(h.check(req({ host: '127.0.0.1:8080' }))).toBeNull();
    expect(h.check(req({ host: 'localhost:8080', origin: 'http://localhost:8080' }))).toBeNull();
    expect(h.check(req({ host: 'twin.lab:8080', origin: 'http://twin.lab:8080' }))).toBeNull();
    expect(h.check(req({ host: '127.0.0.1:8080', origin: 'http://localhost:5173' }))).toBeNull();
    expect(h.check(req({ host: 'attacker.example:8080' }))?.status).toBe(421);
    expect(h.check(req({ host: '127.0.0.1:9999' }))?.status).toBe(421);
    expect(h.check(req({}))?.status).toBe(421);
    expect(h.check(req({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:9999' }))?.status).toBe(403);
    expect(h.check(req({ host: '127.0.0.1:8080', origin: 'null' }))?.status).toBe(403);
  });
});

describe('run log', () => {
  const ev = (seq: number): SimEvent => ({ seq, tick: seq, type: 'audit', station: null, data: { action: 'x', outcome: 'denied', reason: 'r'.repeat(100) } });

  it('pages forward, says when the asked-for events left the ring, and rotates its files', () => {
    const dir = tmp();
    const log = new RunLog({ dir, ringSize: 10, rotateBytes: 2000, keep: 2 });
    for (let k = 0; k < 30; k++) log.onEvents([ev(k)]);
    const p = log.page(-1, 5);
    expect(p.events.map((e) => e.seq)).toEqual([20, 21, 22, 23, 24]);
    expect(p.gap).toEqual({ from: 0, to: 19 });
    expect(p.more).toBe(true);
    const q = log.page(24, 100);
    expect(q.events.map((e) => e.seq)).toEqual([25, 26, 27, 28, 29]);
    expect(q).toMatchObject({ next: 29, more: false, gap: null });
    expect(log.page(29, 10)).toMatchObject({ events: [], next: 29, more: false });
    log.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['audit.1.ndjson', 'audit.2.ndjson', 'audit.ndjson', 'commands.ndjson', 'events.1.ndjson', 'events.2.ndjson', 'events.ndjson']);
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2000);
    // the newest events are in the live file, whole lines
    const last = readFileSync(join(dir, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as SimEvent).seq);
    expect(last.at(-1)).toBe(29);
  });

  it('writes NaN and Infinity in commands as what they were', () => {
    const dir = tmp();
    const log = new RunLog({ dir });
    log.onCommands([{ target: 'kiln', command: 'set', args: { field: 'sp1', value: Number.NaN }, source: 'api', principal: 'p', tick: 1 }, { target: 'kiln', command: 'set', args: { field: 'sp1', value: -Infinity }, source: 'api', principal: 'p', tick: 2 }]);
    log.close();
    expect(readFileSync(join(dir, 'commands.ndjson'), 'utf8')).toMatch(/"value":"NaN".*\n.*"value":"-Infinity"/);
  });
});
