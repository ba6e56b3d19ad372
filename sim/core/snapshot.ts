/**
 * Snapshot bytes: a 16-byte header ('TWL1', version, metadata length, state length), JSON
 * metadata (layout signature, queued and scheduled commands), padding to 8, then the world's
 * state buffer verbatim.
 */
import { TwinlineError } from './errors.ts';
import type { Command, LoggedCommand } from './commands.ts';

const MAGIC = 0x314c5754; // 'TWL1'
const VERSION = 1;

/** What a snapshot carries besides the state bytes. */
export interface SnapshotMeta {
  sig: string;
  queue: Command[];
  schedule: LoggedCommand[];
}

/** Encodes the state buffer and its metadata. */
export function encodeSnapshot(state: ArrayBufferLike, meta: SnapshotMeta): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const head = 16 + Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(head + state.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, json.length, true);
  dv.setUint32(12, state.byteLength, true);
  out.set(json, 16);
  out.set(new Uint8Array(state), head);
  return out;
}

/** Checks `bytes` against the layout `signature`, copies the state into `state`, returns the metadata. */
export function decodeSnapshot(bytes: Uint8Array, state: ArrayBufferLike, signature: string): SnapshotMeta {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 16 || dv.getUint32(0, true) !== MAGIC) throw new TwinlineError('SNAPSHOT_MISMATCH', 'not a Twinline snapshot');
  if (dv.getUint32(4, true) !== VERSION) throw new TwinlineError('SNAPSHOT_MISMATCH', `snapshot version ${dv.getUint32(4, true)} is not supported`);
  const metaLen = dv.getUint32(8, true);
  const bufLen = dv.getUint32(12, true);
  const head = 16 + Math.ceil(metaLen / 8) * 8;
  if (bytes.byteLength !== head + bufLen || bufLen !== state.byteLength) throw new TwinlineError('SNAPSHOT_MISMATCH', 'snapshot size does not match this line');
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + metaLen))) as SnapshotMeta;
  } catch {
    throw new TwinlineError('SNAPSHOT_MISMATCH', 'snapshot metadata is corrupt');
  }
  if (meta.sig !== signature) throw new TwinlineError('SNAPSHOT_MISMATCH', 'snapshot was taken from a different line layout');
  new Uint8Array(state).set(bytes.subarray(head, head + bufLen));
  return meta;
}
