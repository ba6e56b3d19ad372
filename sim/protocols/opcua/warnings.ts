/**
 * node-opcua's warnings, minus one that does not apply to this server. On load, node-opcua
 * tries RSA PKCS#1 v1.5 decryption and, on a Node that refuses it (CVE-2023-46809), warns
 * NODE-OPCUA-W27 to run with --security-revert=CVE-2023-46809. Only the Basic128Rsa15 policy
 * decrypts with PKCS#1 v1.5 (asymmetric key wrap and its user-token encryption); this server
 * offers None (open) or Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss
 * (hardened), whose encryption is RSA-OAEP, and node-opcua lists Basic128Rsa15 user tokens
 * only on endpoints whose policies include it. So the flag would re-enable a vulnerable mode
 * nothing here uses, and the warning only misleads: it is dropped, every other warning is
 * printed as node-opcua prints it (`[W] file:line message`). Import this module before any
 * other node-opcua module so the filter is in place before the load-time check answers.
 */
import { format } from 'node:util';
import { setWarningLogger } from 'node-opcua';

/** True for the two lines of NODE-OPCUA-W27. */
export function isPkcs1Warning(args: readonly unknown[]): boolean {
  const text = args.map((a) => String(a)).join(' ');
  return text.includes('NODE-OPCUA-W27') || text.includes('--security-revert=CVE-2023-46809');
}

setWarningLogger((...all: unknown[]) => {
  const [ctx, ...args] = all as [{ filename?: string; callerline?: number } | undefined, ...unknown[]];
  if (isPkcs1Warning(args)) return;
  const where = ctx?.filename === undefined ? '' : ` ${ctx.filename}:${ctx.callerline ?? ''}`;
  console.log(`[W]${where}`, format(...args));
});
