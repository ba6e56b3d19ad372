/**
 * The attack library's shape: ids, faces and descriptions complete, ATT&CK for ICS
 * techniques taken from the one table (no id written anywhere else in security/attacks).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACKS } from '../../security/attacks/index.ts';
import { T, type Technique } from '../../security/attacks/techniques.ts';

const TABLE: readonly Technique[] = Object.values(T);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('attack library', () => {
  it('has at least 8 attacks with unique kebab-case ids, a face, preconditions, steps and an expected impact', () => {
    expect(ATTACKS.length).toBeGreaterThanOrEqual(8);
    expect(new Set(ATTACKS.map((a) => a.id)).size).toBe(ATTACKS.length);
    for (const a of ATTACKS) {
      expect(a.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(['opcua', 'mqtt', 'rest', 'modbus']).toContain(a.face);
      expect(a.title.length, a.id).toBeGreaterThan(10);
      expect(a.preconditions.length, a.id).toBeGreaterThan(0);
      expect(a.steps.length, a.id).toBeGreaterThan(0);
      expect(a.expectedImpact.length, a.id).toBeGreaterThan(10);
      expect(a.techniques.length, a.id).toBeGreaterThan(0);
    }
  });

  it('names techniques only by the table\'s entries, covering at least 8 of them across every face', () => {
    for (const a of ATTACKS) for (const t of a.techniques) expect(TABLE, `${a.id} ${t.id}`).toContain(t);
    expect(new Set(ATTACKS.flatMap((a) => a.techniques)).size).toBeGreaterThanOrEqual(8);
    expect(new Set(ATTACKS.map((a) => a.face))).toEqual(new Set(['opcua', 'mqtt', 'rest', 'modbus']));
  });

  it('keeps a table of unique ATT&CK for ICS ids', () => {
    expect(new Set(TABLE.map((t) => t.id)).size).toBe(TABLE.length);
    for (const t of TABLE) expect(t.id).toMatch(/^T0\d{3}$/);
    expect(T.unauthorizedCommandMessage).toMatchObject({ id: 'T0855', current: 'T1692.001' });
  });

  it('writes no technique id outside the table', () => {
    const stray = files('security/attacks')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('techniques.ts'))
      .filter((f) => /\bT0\d{3}\b|\bT1\d{3}\b/.test(readFileSync(f, 'utf8')));
    expect(stray).toEqual([]);
  });
});
