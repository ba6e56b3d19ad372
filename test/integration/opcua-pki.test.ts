// The hardened server's trust list of client certificates, through the certificate check a
// secure channel makes (node-opcua's certificate manager on a real PKI folder): refused
// certificates are kept for the operator up to a limit, and the trusted folder is the word.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OPCUACertificateManager } from 'node-opcua';
import { leafThumbprint } from '../../sim/protocols/opcua/pki-files.ts';
import { certificateManager } from '../../sim/protocols/opcua/security.ts';
import { clientPki, trust } from './opcua-host.ts';

let tmp = '';
let server: OPCUACertificateManager;
const clients: { manager: OPCUACertificateManager; der: Buffer }[] = [];
const LIMIT = 2;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'twinline-opcua-pki-'));
  server = await certificateManager(join(tmp, 'server'), false, LIMIT);
  for (let k = 0; k < LIMIT + 1; k++) {
    const c = await clientPki(join(tmp, `client-${k}`));
    clients.push({ manager: c.manager, der: new X509Certificate(readFileSync(c.certificateFile)).raw });
  }
}, 60_000);

afterAll(async () => {
  await server?.dispose();
  for (const c of clients) await c.manager.dispose();
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

describe('OPC UA client certificates on the hardened profile', () => {
  it(`keeps the newest ${LIMIT} refused certificates; an older one is removed, refused all the same`, async () => {
    const rejected = join(tmp, 'server', 'rejected');
    const kept = (): string[] => readdirSync(rejected).map((f) => clients.findIndex((c) => f.includes(leafThumbprint(c.der)))).sort().map(String);
    for (const [k, c] of clients.entries()) {
      expect((await server.checkCertificate(c.der)).name, `client ${k}`).toBe('BadCertificateUntrusted');
      // mtimes order the refusals
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(kept()).toEqual(['1', '2']);
    // refused again while kept: still refused, nothing else goes
    expect((await server.checkCertificate(clients[2]!.der)).name).toBe('BadCertificateUntrusted');
    expect(kept()).toEqual(['1', '2']);
  });

  it('accepts a certificate put into the trusted folder, whether it was kept as refused or not', async () => {
    const pki = join(tmp, 'server');
    for (const c of [clients[0]!, clients[LIMIT]!]) {
      const file = join(tmp, `trusting-${clients.indexOf(c)}.der`);
      writeFileSync(file, c.der);
      trust(file, pki);
      expect((await server.checkCertificate(c.der)).name).toBe('Good');
    }
    // one not trusted stays refused
    expect((await server.checkCertificate(clients[1]!.der)).name).toBe('BadCertificateUntrusted');
  });
});
