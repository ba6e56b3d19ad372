/**
 * A test host for the OPC UA face: a real simulation worker running a scenario in real time,
 * the real face (`startOpcua`) on a free loopback port with the accounts and login guard a
 * test gives, and the drained event log (as `twinline serve` pumps it). Also real client
 * PKI helpers: a client application certificate, and self-signed user certificates.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';
import type { SimEvent } from '../../sim/core/events.ts';
import type { AccountStore } from '../../sim/host/accounts.ts';
import type { LoginGuard } from '../../sim/host/login-guard.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { startOpcua, type OpcuaFace, type OpcuaProfile } from '../../sim/protocols/opcua/server.ts';
import { loadRemote, spawnNodeSim, type NodeSim } from '../../sim/worker/node-host.ts';
import { scaled } from '../proc.ts';

/** A running face over a running line. */
export interface FaceHost {
  face: OpcuaFace;
  sim: NodeSim;
  /** the face's PKI folders live here */
  runDir: string;
  /** every event drained so far, oldest first */
  events: SimEvent[];
  /** Waits until the drained events hold one that `pred` accepts. */
  waitEvent(what: string, pred: (e: SimEvent) => boolean, ms?: number): Promise<SimEvent>;
  /** Closes the face (unless closed already) and the worker, and removes the run folder. */
  close(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** a waiting budget's floor [ms on a quiet machine]: a wait returns as soon as it is met, so a short one buys nothing but flakes on a busy machine */
const MIN_WAIT_MS = 10_000;

/**
 * Polls `get` until `ok` holds; fails after `budget` ms, at least MIN_WAIT_MS, scaled by the
 * machine factor (a limit, not a timing claim).
 */
export async function waitFor<T>(what: string, get: () => Promise<T> | T, ok: (v: T) => boolean, budget = MIN_WAIT_MS): Promise<T> {
  const ms = scaled(Math.max(budget, MIN_WAIT_MS));
  const end = Date.now() + ms;
  let v = await get();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await sleep(50);
    v = await get();
  }
  return v;
}

/** Starts `scenario` in a worker and the OPC UA face over it. */
export async function startFaceHost(o: {
  scenario: string; profile: OpcuaProfile; accounts: AccountStore; guard?: LoginGuard; shutdownMs?: number;
  /** called with the run folder before the face starts (to trust a client certificate) */
  prepare?: (runDir: string) => void;
}): Promise<FaceHost> {
  const text = readFileSync(o.scenario, 'utf8');
  const spec = parseScenario(text, o.scenario);
  const runDir = mkdtempSync(join(tmpdir(), 'twinline-opcua-face-'));
  o.prepare?.(runDir);
  const sim = spawnNodeSim();
  let face: OpcuaFace | null = null;
  const events: SimEvent[] = [];
  let pump: NodeJS.Timeout | undefined;
  try {
    await loadRemote(sim.api, text, o.scenario);
    await sim.api.start();
    face = await startOpcua({
      spec, api: sim.api, port: 0, explicitPort: false, host: '127.0.0.1', profile: o.profile, runDir, accounts: o.accounts,
      ...(o.guard !== undefined ? { guard: o.guard } : {}), ...(o.shutdownMs !== undefined ? { shutdownMs: o.shutdownMs } : {}),
    });
  } catch (e) {
    await sim.terminate();
    rmSync(runDir, { recursive: true, force: true });
    throw e;
  }
  const started = face;
  pump = setInterval(() => {
    sim.api.drainEvents().then((evs) => {
      started.onEvents(evs);
      events.push(...evs);
    }, () => undefined);
  }, 100);
  let closed = false;
  const origClose = started.close.bind(started);
  started.close = async () => {
    if (closed) return;
    closed = true;
    await origClose();
  };
  return {
    face: started, sim, runDir, events,
    waitEvent: (what, pred, ms) => waitFor(what, () => events.find(pred), (e) => e !== undefined, ms) as Promise<SimEvent>,
    async close() {
      clearInterval(pump);
      pump = undefined;
      await started.close().catch(() => undefined);
      await sim.terminate();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/** A client PKI folder with its own application certificate made (so a test can trust it before connecting). */
export async function clientPki(dir: string): Promise<{ manager: OPCUACertificateManager; certificateFile: string }> {
  mkdirSync(dir, { recursive: true });
  const manager = new OPCUACertificateManager({ rootFolder: dir, automaticallyAcceptUnknownCertificate: true });
  await manager.initialize();
  const certificateFile = join(dir, 'own', 'certs', 'client_certificate.pem');
  await manager.createSelfSignedCertificate({
    applicationUri: 'urn:twinline:test-client', subject: '/CN=twinline-test-client', dns: [hostname()], ip: ['127.0.0.1'],
    startDate: new Date(), validity: 30, outputFile: certificateFile,
  });
  return { manager, certificateFile };
}

/** Puts a certificate (PEM or DER file) into the trusted folder of a PKI. */
export function trust(certificateFile: string, pki: string): void {
  const dir = join(pki, 'trusted', 'certs');
  mkdirSync(dir, { recursive: true });
  copyFileSync(certificateFile, join(dir, `${readdirSync(dir).length}-${certificateFile.split('/').pop() ?? 'cert.pem'}`));
}

/** A self-signed X.509 user certificate with subject CN=`cn`: its DER, PEM file, private key (PEM) and SHA-1 thumbprint. */
export async function userCertificate(dir: string, cn: string): Promise<{ der: Buffer; file: string; privateKey: string; thumbprint: string }> {
  mkdirSync(dir, { recursive: true });
  const manager = new OPCUACertificateManager({ rootFolder: dir, automaticallyAcceptUnknownCertificate: true });
  await manager.initialize();
  const file = join(dir, 'own', 'certs', `${cn}.pem`);
  await manager.createSelfSignedCertificate({
    applicationUri: `urn:user:${cn}`, subject: `/CN=${cn}`, dns: [], ip: [], startDate: new Date(), validity: 30, outputFile: file,
  });
  const x = new X509Certificate(readFileSync(file));
  await manager.dispose();
  return { der: x.raw, file, privateKey: readFileSync(manager.privateKey, 'utf8'), thumbprint: x.fingerprint.replaceAll(':', '').toLowerCase() };
}
