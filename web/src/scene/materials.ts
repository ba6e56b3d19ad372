/** Shared materials and small colour helpers of the scene (created once, never per frame). */
import { MeshBasicMaterial, MeshStandardMaterial, type Color } from 'three';

/** Machine body paint. */
export const PAINT = new MeshStandardMaterial({ color: 0x8fa3b8, metalness: 0.35, roughness: 0.55 });
/** Dark steel: frames, legs, rollers. */
export const STEEL = new MeshStandardMaterial({ color: 0x3b4550, metalness: 0.6, roughness: 0.45 });
/** Safety yellow: guards, robot links. */
export const SAFETY = new MeshStandardMaterial({ color: 0xf0b400, metalness: 0.2, roughness: 0.5 });
/** Belt rubber. */
export const RUBBER = new MeshStandardMaterial({ color: 0x1b1f24, roughness: 0.9 });
/** Refractory brick of kilns and furnaces. */
export const BRICK = new MeshStandardMaterial({ color: 0x8a5a44, roughness: 0.95 });
/** Glass of booths and camera lenses. */
export const GLASS = new MeshStandardMaterial({ color: 0x9fd3ff, transparent: true, opacity: 0.35, roughness: 0.1 });
/** Water of quench baths. */
export const WATER = new MeshStandardMaterial({ color: 0x1c6ea4, transparent: true, opacity: 0.8, roughness: 0.2 });
/** Cardboard of packers. */
export const CARDBOARD = new MeshStandardMaterial({ color: 0xb98b55, roughness: 0.9 });
/**
 * Ground shade under every station: a cheap stand-in for cast shadows that grounds the
 * machines on the floor; one material, so all of it merges into one draw.
 */
export const SHADE = new MeshBasicMaterial({ color: 0x000000, transparent: true, opacity: 0.3, depthWrite: false });
/** Skin-free operator figure. */
export const OPERATOR = new MeshStandardMaterial({ color: 0x2f6db5, roughness: 0.8 });

/**
 * Sets `out` to the glow colour of a surface at `t` [°C] and returns its emissive intensity
 * (0 below a dull red heat, about 2 at a white heat). Allocates nothing.
 */
export function heatGlow(t: number, out: Color): number {
  if (!(t > 450)) {
    out.setRGB(0, 0, 0);
    return 0;
  }
  const k = Math.min(1, (t - 450) / 1000);
  out.setRGB(1, 0.12 + 0.55 * k * k, 0.02 + 0.25 * k * k * k);
  return 0.25 + 1.1 * k;
}

/** Linear blend for animation of floats. */
export function approach(x: number, goal: number, rate: number, dt: number): number {
  return x + (goal - x) * (1 - Math.exp(-rate * dt));
}
