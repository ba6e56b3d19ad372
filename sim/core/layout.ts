/**
 * Lays out named typed arrays (structure of arrays) over one buffer. A `SharedArrayBuffer`
 * when the platform allows it (Node, cross-origin-isolated browsers), otherwise an
 * `ArrayBuffer`. The same layout on the same inputs gives the same offsets, so a snapshot
 * (a copy of the bytes) restores into any host.
 */

type ArrayKind = 'f64' | 'i32' | 'u32';

interface Slot {
  name: string;
  kind: ArrayKind;
  length: number;
  offset: number;
}

/** Collects array declarations, then allocates one buffer and makes the views. */
export class LayoutBuilder {
  private readonly slots: Slot[] = [];
  private bytes = 0;

  /** Declares an array; returns its name for chaining in the caller's bookkeeping. */
  add(name: string, kind: ArrayKind, length: number): string {
    if (this.slots.some((s) => s.name === name)) throw new Error(`layout: duplicate array ${name}`);
    this.bytes = Math.ceil(this.bytes / 8) * 8;
    this.slots.push({ name, kind, length, offset: this.bytes });
    this.bytes += length * (kind === 'f64' ? 8 : 4);
    return name;
  }

  /** Total size in bytes, rounded up to 8. */
  get byteLength(): number {
    return Math.ceil(this.bytes / 8) * 8;
  }

  /** A text that changes whenever names, kinds or lengths change (for snapshot checks). */
  signature(): string {
    return this.slots.map((s) => `${s.name}:${s.kind}:${s.length}`).join(',');
  }

  /** Allocates the buffer (or uses `buffer`) and returns the views by name. */
  build(buffer?: ArrayBufferLike): { buffer: ArrayBufferLike; views: Map<string, Float64Array | Int32Array | Uint32Array> } {
    const buf = buffer ?? allocate(this.byteLength);
    if (buf.byteLength < this.byteLength) throw new Error(`layout: buffer of ${buf.byteLength} B is smaller than ${this.byteLength} B`);
    const views = new Map<string, Float64Array | Int32Array | Uint32Array>();
    for (const s of this.slots) {
      const v =
        s.kind === 'f64'
          ? new Float64Array(buf, s.offset, s.length)
          : s.kind === 'i32'
            ? new Int32Array(buf, s.offset, s.length)
            : new Uint32Array(buf, s.offset, s.length);
      views.set(s.name, v);
    }
    return { buffer: buf, views };
  }
}

/** Whether shared memory is available here. */
export function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}

function allocate(bytes: number): ArrayBufferLike {
  return sharedMemoryAvailable() ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}
