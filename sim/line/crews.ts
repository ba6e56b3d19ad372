/**
 * The `crews:` section of a scenario → the world's crew definitions (see sim/core/crew.ts):
 * units converted, station references and skills checked against the stations' kinds, so
 * that a crew serving a station it can do nothing at is reported at its line in the file.
 */
import { KIND_TASK, TASKS, type CrewBreak, type CrewDef, type TaskName } from '../core/crew.ts';
import type { MachineKind } from '../core/types.ts';
import type { Path } from './locate.ts';
import { isRec } from './migrate.ts';
import type { ResolverChecks } from './resolve.ts';

const DAY = 86400;
const DEFAULT_SHIFT = 8 * 3600;

/** Resolves the crews of a scenario; problems go to the resolver's list. */
export function resolveCrews(r: ResolverChecks, list: readonly unknown[], ids: ReadonlyMap<string, number>, kinds: readonly (MachineKind | undefined)[]): CrewDef[] {
  const seen = new Map<string, number>();
  const served = new Map<number, string>();
  return list.map((raw, k): CrewDef => {
    const c = isRec(raw) ? raw : {};
    const base: Path = ['crews', k];
    const id = typeof c.id === 'string' ? c.id : `crew-${k}`;
    const first = seen.get(id);
    if (first !== undefined) r.out.add('SCENARIO_REFERENCE', `duplicate crew id "${id}": crews[${first}] has it already`, [...base, 'id']);
    else seen.set(id, k);
    const skills = (Array.isArray(c.skills) ? c.skills : []).filter((x): x is TaskName => (TASKS as readonly unknown[]).includes(x));
    const stations: CrewDef['stations'][number][] = [];
    (Array.isArray(c.stations) ? c.stations : []).forEach((a: unknown, j: number) => {
      const rec = isRec(a) ? a : { station: a };
      const path: Path = isRec(a) ? [...base, 'stations', j, 'station'] : [...base, 'stations', j];
      const s = r.ref(rec.station, path, ids, 'station');
      if (s < 0) return;
      const kind = kinds[s];
      const task = KIND_TASK[kind?.kind ?? ''];
      const works = task !== undefined && skills.includes(task);
      if (kind !== undefined && !works && !skills.includes('repair')) {
        const has = task === undefined ? `${kind.kind} has no manual task` : `its task is "${task}"`;
        r.out.add('SCENARIO_REFERENCE', `crew "${id}" serves "${String(rec.station)}" but can do nothing there: ${has}, and the crew lacks "repair"`, path);
      }
      if (works) {
        const other = served.get(s);
        if (other !== undefined) r.out.add('SCENARIO_REFERENCE', `station "${String(rec.station)}" is already served by crew "${other}"`, path);
        else served.set(s, id);
      }
      stations.push({ station: String(rec.station), places: typeof rec.places === 'number' ? rec.places : 1 });
    });
    const sh = isRec(c.shift) ? c.shift : {};
    const shiftLength = r.qty(sh.length, [...base, 'shift', 'length'], { unit: 's', above: 0, max: DAY }) ?? DEFAULT_SHIFT;
    const breaks: CrewBreak[] = (Array.isArray(sh.breaks) ? sh.breaks : []).map((b: unknown, j: number) => {
      const br = isRec(b) ? b : {};
      const bp: Path = [...base, 'shift', 'breaks', j];
      const at = r.qty(br.at, [...bp, 'at'], { unit: 's', min: 0, max: shiftLength }) ?? 0;
      const length = r.qty(br.length, [...bp, 'length'], { unit: 's', above: 0, max: shiftLength }) ?? 0;
      return { at, length, share: typeof br.share === 'number' ? br.share : 1 };
    });
    return {
      id,
      name: r.label(c.name, id),
      size: typeof c.size === 'number' ? c.size : 0,
      skills,
      stations,
      presence: r.qty(sh.hoursPerDay, [...base, 'shift', 'hoursPerDay'], { unit: 's', above: 0, max: DAY }) ?? DAY,
      shiftLength,
      breaks,
    };
  });
}
