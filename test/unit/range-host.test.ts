import { describe, expect, it } from 'vitest';
import { checkTarget } from '../../security/attacks/targets.ts';
import { loopbackTarget } from '../../sim/host/range.ts';

describe('the range\'s targets from the faces a host bound', () => {
  it('reaches a wildcard listen address on loopback, keeps anything else for the guard to judge', async () => {
    expect(loopbackTarget('http://0.0.0.0:8080/')).toBe('http://127.0.0.1:8080/');
    expect(loopbackTarget('opc.tcp://0.0.0.0:4840')).toBe('opc.tcp://127.0.0.1:4840');
    expect(loopbackTarget('http://[::]:8080/')).toBe('http://[::1]:8080/');
    expect(loopbackTarget('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
    expect(loopbackTarget('opc.tcp://127.0.0.1:4840')).toBe('opc.tcp://127.0.0.1:4840');
    // a host listening on a network address: the guard refuses it, nothing is sent
    const lan = loopbackTarget('opc.tcp://10.1.2.3:4840');
    expect(lan).toBe('opc.tcp://10.1.2.3:4840');
    await expect(checkTarget(lan, null)).rejects.toThrow(/10\.1\.2\.3 is neither loopback nor listed/);
    expect((await checkTarget(loopbackTarget('http://[::]:8080/'), null)).face).toBe('rest');
  });
});
