/**
 * The embedded broker's TLS material: a private key and a self-signed certificate kept in the
 * host's home (`<home>/mqtt/tls/`, laid out like the OPC UA PKI: `own/private/private_key.pem`,
 * `own/certs/mqtt-broker.pem`), made on first use and reused afterwards, so a client that pins
 * the certificate keeps trusting it across restarts. Its subject names the host's names and
 * loopback, for clients that check the host name against it.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';
import { TwinlineError } from '../../core/errors.ts';

/** What the TLS listener needs, and where the certificate is for clients to pin. */
export interface BrokerTls {
  key: Buffer;
  cert: Buffer;
  /** the certificate file (PEM) */
  certFile: string;
  /** SHA-256 fingerprint of the certificate */
  fingerprint: string;
}

/** the certificate's validity when made [days] */
const VALIDITY_DAYS = 3650;

/** Loads the broker's key and certificate from `dir`, making them when missing. */
export async function brokerTls(dir: string, host: string): Promise<BrokerTls> {
  const certFile = join(dir, 'own', 'certs', 'mqtt-broker.pem');
  const cm = new OPCUACertificateManager({ rootFolder: dir, automaticallyAcceptUnknownCertificate: false });
  try {
    await cm.initialize();
    if (!existsSync(certFile)) {
      const names = [...new Set(['localhost', hostname(), ...(/^[\d.]+$|:/.test(host) ? [] : [host])])];
      await cm.createSelfSignedCertificate({
        outputFile: certFile, subject: '/CN=Twinline MQTT broker/O=Twinline', applicationUri: `urn:${hostname()}:twinline:mqtt`,
        dns: names, ip: [...new Set(['127.0.0.1', ...(/^[\d.]+$/.test(host) && host !== '0.0.0.0' ? [host] : [])])], startDate: new Date(), validity: VALIDITY_DAYS,
      });
    }
    const key = readFileSync(cm.privateKey);
    const cert = readFileSync(certFile);
    return { key, cert, certFile, fingerprint: new X509Certificate(cert).fingerprint256 };
  } catch (e) {
    throw new TwinlineError('IO', `MQTT over TLS: cannot make or read the broker's key and certificate in ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await cm.dispose().catch(() => undefined);
  }
}
