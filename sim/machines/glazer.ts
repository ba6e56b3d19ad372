/**
 * Spray glazing booth. Each part gets a glaze layer whose thickness is the setpoint, less
 * what a worn nozzle no longer delivers, plus spray scatter that widens as the nozzle wears:
 * d ~ N(sp·(1 − nozzleLoss·wear), σ0 + σwear·wear). A layer more than `tolerance` away from
 * the recipe thickness is a glaze defect (crawling when thick, bare spots when thin), so the
 * defect rate follows the setpoint error and the nozzle state, not a fixed percentage.
 */
import type { MachineKind } from '../core/types.ts';
import { normal } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, advanceFifo, cycleTimeTiming, justFinished, waitingPower } from './flow.ts';

const ALARM_THICKNESS = 1;
const ALARM_NOZZLE = 2;

export const glazer: MachineKind = {
  kind: 'glazer',
  title: { en: 'Spray glazing', zh: '喷釉' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    cycleTime: { unit: 's', description: 'time to glaze one part', access: 'rw', write: 'operator', default: 10, min: 0.5, max: 3600 },
    thickness: { unit: 'mm', description: 'glaze thickness setpoint', access: 'rw', write: 'operator', default: 0.5, min: 0.05, max: 3 },
    recipeThickness: { unit: 'mm', description: 'glaze thickness the product recipe calls for', access: 'rw', write: 'operator', default: 0.5, min: 0.05, max: 3 },
    tolerance: { unit: 'mm', description: 'allowed deviation from the recipe thickness', access: 'rw', default: 0.08, min: 0.001, max: 1 },
    scatter: { unit: 'mm', description: 'spray scatter (standard deviation) of a new nozzle', access: 'rw', default: 0.025, min: 0, max: 1 },
    wearScatter: { unit: 'mm', description: 'extra scatter of a fully worn nozzle', access: 'rw', default: 0.06, min: 0, max: 1 },
    nozzleLoss: { unit: '', description: 'share of glaze a fully worn nozzle no longer delivers', access: 'rw', default: 0.25, min: 0, max: 0.9 },
    pumpPower: { unit: 'W', description: 'glaze pump and booth extraction power while spraying', access: 'rw', default: 4000, min: 0, max: 1e5 },
    idlePower: { unit: 'W', description: 'extraction power while idle', access: 'rw', default: 1500, min: 0, max: 1e5 },
    lastThickness: { unit: 'mm', description: 'glaze thickness on the last part', access: 'r', default: 0 },
  },
  alarms: [
    { bit: 0, code: 'THICKNESS_OFF_RECIPE', severity: 500, text: { en: 'Glaze setpoint outside recipe tolerance', zh: '釉层厚度设定偏离配方' } },
    { bit: 1, code: 'NOZZLE_WORN', severity: 300, text: { en: 'Spray nozzle worn: replace', zh: '喷嘴磨损，需更换' } },
  ],
  ...cycleTimeTiming,
  step(v, i, s, w) {
    const worked = advanceFifo(w, s, 1, v.cycleTime![i]!);
    w.st.power[s] = w.running(s) ? (worked > 0 ? v.pumpPower![i]! : v.idlePower![i]!) : waitingPower(w, s, v.idlePower![i]!);
    const p = justFinished(w, s);
    if (p < 0) return;
    const wear = w.st.wear[s] ?? 0;
    const recipe = v.recipeThickness![i]!;
    const tol = v.tolerance![i]!;
    const mean = v.thickness![i]! * (1 - v.nozzleLoss![i]! * wear);
    const d = Math.max(0, mean + (v.scatter![i]! + v.wearScatter![i]! * wear) * normal(w.rng));
    v.lastThickness![i] = d;
    if (Math.abs(d - recipe) > tol) addDefect(w, p, Defect.glaze);
    w.setAlarm(s, ALARM_THICKNESS, Math.abs(v.thickness![i]! - recipe) > tol);
    w.setAlarm(s, ALARM_NOZZLE, wear > 0.6);
  },
};
