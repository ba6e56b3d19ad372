/** A faceplate's live tags with units; 'rw' tags carry an input for a new value. */
import { useI18n } from '../i18n/index.ts';
import { writeLevelOf, type Role } from '../twin/roles.ts';
import type { StationInfo } from '../twin/types.ts';
import { ParamInput } from './ParamInput.tsx';
import { displayUnit } from './units.ts';

/** bookkeeping tags the table leaves out */
const NOT_SHOWN = new Set(['alarmsAcked']);

/** Props of `TagTable`. */
export interface TagTableProps {
  info: StationInfo;
  /** values in the order of `info.tags`, undefined before the first frame */
  values: Float64Array | undefined;
  role: Role;
  mode: string | undefined;
  onSet(field: string, value: number): void;
}

/** A kiln's per-zone tags (t3, sp3, p3, recipe3, ware k3 and w3): shown only for the zones in use. */
const ZONE_TAG = /^(?:t|sp|p|recipe|k|w)(\d)$/;

/** Whether tag `name` is a zone tag beyond the `zones` in use (NaN: not known yet, all shown). */
export function beyondZones(name: string, zones: number): boolean {
  const m = ZONE_TAG.exec(name);
  return m !== null && Number.isFinite(zones) && Number(m[1]) > zones;
}

/** The tag table of one station. */
export function TagTable({ info, values, role, mode, onSet }: TagTableProps): React.JSX.Element {
  const { t, num } = useI18n();
  const zonesAt = info.tags.findIndex((g) => g.name === 'zones');
  const zones = zonesAt >= 0 && values !== undefined ? (values[zonesAt] ?? NaN) : NaN;
  return (
    <table className="tags">
      <thead><tr><th>{t.tag}</th><th>{t.value}</th><th>{t.unit}</th><th>{t.set}</th></tr></thead>
      <tbody>
        {info.tags.map((g, k) => {
          if (NOT_SHOWN.has(g.name) || beyondZones(g.name, zones)) return null;
          const level = writeLevelOf(g);
          const shown = displayUnit(g.unit);
          return (
            <tr key={g.name} title={g.description}>
              <td>{t.tagLabels[g.name] ?? g.name}{t.tagLabels[g.name] !== undefined ? <code>{g.name}</code> : null}</td>
              <td className="num" data-tag={g.name} data-unit={shown.unit}>{values === undefined ? '—' : num((values[k] ?? NaN) * shown.scale)}</td>
              <td>{shown.unit}</td>
              <td>{level !== null ? <ParamInput name={g.name} level={level} role={role} mode={mode} onSet={(field, v) => onSet(field, v / shown.scale)} /> : null}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
