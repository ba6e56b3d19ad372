/**
 * Statistics of `twinline compare`: mean and sample standard deviation over seeds, and the
 * change from before to after in percent with a 95 % confidence interval.
 *
 * The interval: the change is g = (mean_after − mean_before) / |mean_before|. Its standard
 * error comes from the delta method, se² = s_a²/(n_a m_b²) + m_a² s_b²/(n_b m_b⁴), which
 * carries the uncertainty of both means (the before mean is not taken as exact). The degrees
 * of freedom are Welch–Satterthwaite's for those two terms, and the half-width is the
 * t-distribution's 97.5 % quantile times se. Seeds are independent replications, so the two
 * samples are independent (a common-random-numbers pairing is not assumed).
 */

/** Mean and sample standard deviation (n − 1); sd is 0 for a single value. */
export interface MeanSd {
  mean: number;
  sd: number;
}

/** Change in percent of the before mean, with its 95 % interval (null: fewer than 2 seeds each, or a before mean of 0). */
export interface DeltaPct {
  mean: number | null;
  lo: number | null;
  hi: number | null;
}

/** Mean and sample standard deviation of `xs` (at least one value). */
export function meanSd(xs: readonly number[]): MeanSd {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: 0 };
  const ss = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 digits). */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0] ?? 1;
  const t = z + 7.5;
  for (let k = 1; k < 9; k++) a += (c[k] ?? 0) / (z + k);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The `p` quantile (0.5 < p < 1) of Student's t with `df` > 0 degrees of freedom (bisection to 1e-10). */
export function tQuantile(p: number, df: number): number {
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p && hi < 1e12) hi *= 2;
  for (let k = 0; k < 200 && hi - lo > 1e-10 * Math.max(1, hi); k++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The change from `before` to `after` in percent of the before mean, with its 95 % interval (see the module comment). */
export function deltaPct(before: readonly number[], after: readonly number[]): DeltaPct {
  const b = meanSd(before);
  const a = meanSd(after);
  if (b.mean === 0) return { mean: null, lo: null, hi: null };
  const mean = (100 * (a.mean - b.mean)) / Math.abs(b.mean);
  if (before.length < 2 || after.length < 2) return { mean, lo: null, hi: null };
  const mb2 = b.mean * b.mean;
  const ca = (a.sd * a.sd) / (after.length * mb2);
  const cb = (a.mean * a.mean * b.sd * b.sd) / (before.length * mb2 * mb2);
  const v = ca + cb;
  if (v === 0) return { mean, lo: mean, hi: mean };
  const df = (v * v) / ((ca * ca) / (after.length - 1) + (cb * cb) / (before.length - 1));
  const half = 100 * tQuantile(0.975, df) * Math.sqrt(v);
  return { mean, lo: mean - half, hi: mean + half };
}
