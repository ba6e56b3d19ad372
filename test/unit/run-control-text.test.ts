/**
 * The audit trail's words for a jump (sim/host/run-control.ts): its length to the nearest
 * second, though the two times it is the difference of are floats (424.1 + 600 − 424.1 is
 * 599.999…, once written as 0:09:59).
 */
import { describe, expect, it } from 'vitest';
import { jumpText } from '../../sim/host/run-control.ts';

describe('jumpText', () => {
  it('says a ten-minute jump is 0:10:00 whatever floats its ends are', () => {
    expect(424.1 + 600 - 424.1).toBeLessThan(600);
    expect(jumpText({ fromS: 424.1, toS: 424.1 + 600, shift: null, tookS: 0.1 })).toBe('jumped 0:10:00 from 0:07:04 to 0:17:04 in 0.1 s');
    expect(jumpText({ fromS: 3000.5, toS: 28800, shift: 1, tookS: 2.25 })).toBe('jumped 7:10:00 from 0:50:00 to 8:00:00 (end of shift 1) in 2.3 s');
  });
});
