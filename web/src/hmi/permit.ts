/** Tooltips for controls the signed-in role may not use. */
import type { Messages } from '../i18n/en.ts';
import { hasRole, roleForWrite, type Role, type WriteLevel } from '../twin/roles.ts';

/** Why `role` may not use a control that needs `needed` (names the role), or null if it may. */
export function needsRole(t: Messages, role: Role, needed: Role): string | null {
  return hasRole(role, needed) ? null : t.needsRole.replace('{role}', t.roles[needed]).replace('{you}', t.roles[role]);
}

/** Why `role` may not write a tag of `level` now (station in unit `mode`), or null if it may. */
export function mayNotWrite(t: Messages, role: Role, level: WriteLevel, mode: string | undefined): string | null {
  // the line takes a safety limit only in Maintenance, whoever sends it
  return needsRole(t, role, roleForWrite(level)) ?? (level === 'safety' && mode !== 'Maintenance' ? t.needsMaintenance : null);
}
