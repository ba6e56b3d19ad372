/**
 * The web app greys out what the signed-in role may not do; the line decides. The page's rules
 * must agree with the line's own for every role, station command and write level, or the page
 * would offer what is refused or hide what is allowed.
 */
import { describe, expect, it } from 'vitest';
import { mayCommand, mayWrite, ROLES, STATION_COMMANDS, type WriteLevel } from '../../sim/core/commands.ts';
import { hasRole, isRole, roleForCommand, roleForWrite, writeLevelOf } from '../../web/src/twin/roles.ts';

const LEVELS: WriteLevel[] = ['operator', 'engineer', 'safety'];

describe('web roles', () => {
  it('allow a station command exactly when the line does', () => {
    for (const role of ROLES) {
      for (const command of STATION_COMMANDS) {
        expect(hasRole(role, roleForCommand(command)), `${role} ${command}`).toBe(mayCommand(role, command) === null);
      }
    }
  });

  it('allow a write exactly when the line does (a safety limit in Maintenance)', () => {
    for (const role of ROLES) {
      for (const level of LEVELS) {
        expect(hasRole(role, roleForWrite(level)), `${role} ${level}`).toBe(mayWrite(role, level, true) === null && mayCommand(role, 'set') === null);
      }
    }
  });

  it('read a tag\'s write level defensively: absent or unknown means engineer, read-only means none', () => {
    const tag = { name: 'sp1', unit: '°C', description: '' };
    expect(writeLevelOf({ ...tag, access: 'r' })).toBeNull();
    expect(writeLevelOf({ ...tag, access: 'rw' })).toBe('engineer');
    expect(writeLevelOf({ ...tag, access: 'rw', write: 'operator' } as never)).toBe('operator');
    expect(writeLevelOf({ ...tag, access: 'rw', write: 'safety' } as never)).toBe('safety');
    expect(writeLevelOf({ ...tag, access: 'rw', write: 'root' } as never)).toBe('engineer');
    expect(ROLES.every(isRole)).toBe(true);
    expect(isRole('admin')).toBe(false);
    expect(isRole('constructor')).toBe(false);
  });
});
