/**
 * Keeps a Map that outside input can grow (tokens, back-off keys, audit throttles, per-peer
 * counters) within a size: the oldest entries (Map order: first inserted) are dropped first.
 */
export function capMap<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) {
    const oldest = m.keys().next();
    if (oldest.done === true) return;
    m.delete(oldest.value);
  }
}
