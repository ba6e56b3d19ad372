/**
 * Machine-vision inspection (HD cameras, 5G link to the classifier). Throughput is the camera
 * rate: the images the system can take and classify per minute over the `imagesPerPart` each
 * part needs, so halving the camera rate halves the parts it can inspect. Detection is per
 * defect class: surface defects (glaze faults, deformation) with `detectionRate`, internal ones
 * (cracks that do not break the surface, porosity) with `internalDetectionRate`, low for a
 * camera unless it has a sensor for them (backlight, acoustic, X-ray). Both fall as lenses and
 * lighting degrade with wear (`wearLoss` at full wear); a good part is flagged by mistake with
 * `falseRejectRate`. Marks the part inspected and, if so, rejected: routing (reject line,
 * sorter) removes it.
 */
import type { MachineKind } from '../core/types.ts';
import { advanceFifo, clamp, fifoAdvance, fifoQuiet, inspectByClass, justFinished } from './flow.ts';
import { inspectionCounters } from './fields.ts';

const ALARM_DEGRADED = 1;

export const vision: MachineKind = {
  kind: 'vision',
  title: { en: 'Machine-vision inspection', zh: '机器视觉检测' },
  role: 'process',
  companion: ['Machinery', 'MachineVision'],
  fields: {
    imagesPerMin: { unit: '1/min', description: 'images the system takes and classifies per minute', access: 'rw', default: 60, min: 1, max: 100000 },
    imagesPerPart: { unit: '', description: 'images taken of each part', access: 'rw', default: 6, min: 1, max: 100, integer: true },
    detectionRate: { unit: '', description: 'share of real surface defects (glaze, shape, surface) found by a new, clean system', access: 'rw', default: 0.98, min: 0, max: 1 },
    // Cameras see the cracks that open to the surface (a good part of dunting cracks on
    // glazed ware) and little of what lies inside.
    internalDetectionRate: { unit: '', description: 'share of real internal defects (cracks, porosity) found by a new, clean system', access: 'rw', default: 0.3, min: 0, max: 1 },
    falseRejectRate: { unit: '', description: 'share of good parts flagged by mistake', access: 'rw', default: 0.01, min: 0, max: 1 },
    wearLoss: { unit: '', description: 'share of the detection rates lost at full wear (lens dirt, lamp ageing)', access: 'rw', default: 0.4, min: 0, max: 1 },
    systemPower: { unit: 'W', description: 'cameras, lighting and classifier power while running', access: 'rw', default: 1200, min: 0, max: 2e4 },
    internalDetection: { unit: '', description: 'internal-defect detection rate now', access: 'r', default: 0.3 },
    ...inspectionCounters(0.98),
  },
  alarms: [{ bit: 0, code: 'DETECTION_DEGRADED', severity: 500, text: { en: 'Detection rate degraded: clean lenses, check lighting', zh: '检测率下降：清洁镜头，检查光源' } }],
  idealRate(v, i) {
    return v.imagesPerMin![i]! / 60 / v.imagesPerPart![i]!;
  },
  quietFor(v, i, s, w) {
    return fifoQuiet(w, s, (60 * v.imagesPerPart![i]!) / v.imagesPerMin![i]!);
  },
  advance(v, i, s, w, k) {
    fifoAdvance(w, s, (60 * v.imagesPerPart![i]!) / v.imagesPerMin![i]!, k);
  },
  step(v, i, s, w) {
    w.st.power[s] = w.running(s) ? v.systemPower![i]! : 0;
    advanceFifo(w, s, 1, (60 * v.imagesPerPart![i]!) / v.imagesPerMin![i]!);
    const p = justFinished(w, s);
    if (p < 0) return;
    const base = v.detectionRate![i]!;
    const clean = clamp(1 - v.wearLoss![i]! * (w.st.wear[s] ?? 0), 0, 1);
    const detect = base * clean;
    const internal = v.internalDetectionRate![i]! * clean;
    v.detection![i] = detect;
    v.internalDetection![i] = internal;
    w.setAlarm(s, ALARM_DEGRADED, detect < 0.9 * base);
    v.inspected![i] = v.inspected![i]! + 1;
    if (inspectByClass(w, p, detect, internal, v.falseRejectRate![i]!)) v.rejected![i] = v.rejected![i]! + 1;
  },
};
