/**
 * Certificate files of a PKI folder found by thumbprint: what `twinline opcua trust` moves
 * and what the hardened server looks up. Needs no node-opcua, so the command stays light.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { thumbprint } from '../../host/accounts.ts';

/** SHA-1 thumbprint (hex) of the first (leaf) certificate of a DER chain, or '' if it does not parse. */
export function leafThumbprint(der: Buffer): string {
  try {
    return thumbprint(new X509Certificate(der).raw);
  } catch {
    return '';
  }
}

/** The files in `dir` (PEM or DER) that hold the certificate with thumbprint `thumb`. */
export function filesHolding(dir: string, thumb: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const f of readdirSync(dir)) {
    const path = join(dir, f);
    try {
      if (thumbprint(new X509Certificate(readFileSync(path)).raw) === thumb) found.push(path);
    } catch {
      // not a certificate, or gone meanwhile
    }
  }
  return found;
}
