/**
 * A small orbit camera controller: drag to orbit, right-drag or Shift-drag to pan, wheel to
 * zoom, and `focus()` to glide to a point. The camera follows the rig in `update()`, called
 * once per frame; nothing is allocated there.
 */
import { Vector3, type PerspectiveCamera } from 'three';

const MIN_POLAR = 0.08;
const MAX_POLAR = Math.PI / 2 - 0.05;

/** Orbit state and pointer handling. */
export class OrbitRig {
  /** point the camera looks at */
  readonly target = new Vector3();
  /** [m] */
  distance = 60;
  /** around the vertical axis [rad] */
  azimuth = -0.6;
  /** from the vertical [rad] */
  polar = 1.0;
  /**
   * true while the view is the fitted overview (set by `fit`), false once the user orbits,
   * pans, zooms or focuses a station: a resized canvas is refitted only in the overview
   */
  fitted = false;
  private readonly goal = new Vector3();
  private goalDistance = 60;
  private gliding = false;
  private drag: { x: number; y: number; pan: boolean } | null = null;
  private readonly tmp = new Vector3();
  private el: HTMLElement | null = null;

  /** Places the target and distance at once. */
  set(x: number, y: number, z: number, distance: number): void {
    this.target.set(x, y, z);
    this.goal.copy(this.target);
    this.distance = this.goalDistance = distance;
    this.gliding = false;
  }

  /** Glides to look at (x, y, z) from `distance`. */
  focus(x: number, y: number, z: number, distance: number): void {
    this.fitted = false;
    this.goal.set(x, y, z);
    this.goalDistance = distance;
    this.gliding = true;
  }

  /**
   * Looks at the fitted overview `f` from the overview angles `azimuth`, `polar` [rad]: at once
   * (on load, on resize) or gliding there (the fit control).
   */
  fit(f: { x: number; y: number; z: number; distance: number }, azimuth: number, polar: number, glide: boolean): void {
    if (glide) this.focus(f.x, f.y, f.z, f.distance);
    else this.set(f.x, f.y, f.z, f.distance);
    this.azimuth = azimuth;
    this.polar = polar;
    this.fitted = true;
  }

  /** Moves `camera` to the rig; `dt` [s] drives the glide. */
  update(camera: PerspectiveCamera, dt: number): void {
    if (this.gliding) {
      const k = 1 - Math.exp(-dt * 5);
      this.target.lerp(this.goal, k);
      this.distance += (this.goalDistance - this.distance) * k;
      if (this.target.distanceToSquared(this.goal) < 1e-4 && Math.abs(this.goalDistance - this.distance) < 0.01) this.gliding = false;
    }
    const sp = Math.sin(this.polar);
    camera.position.set(
      this.target.x + this.distance * sp * Math.sin(this.azimuth),
      this.target.y + this.distance * Math.cos(this.polar),
      this.target.z + this.distance * sp * Math.cos(this.azimuth),
    );
    camera.lookAt(this.target);
  }

  /** Listens to pointer and wheel input on `el`; returns the detach function. */
  attach(el: HTMLElement): () => void {
    this.el = el;
    const down = (e: PointerEvent): void => {
      this.drag = { x: e.clientX, y: e.clientY, pan: e.button === 2 || e.shiftKey };
    };
    const move = (e: PointerEvent): void => {
      const d = this.drag;
      if (d === null || e.buttons === 0) {
        this.drag = null;
        return;
      }
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      d.x = e.clientX;
      d.y = e.clientY;
      if (dx !== 0 || dy !== 0) this.fitted = false;
      if (d.pan) this.pan(dx, dy);
      else {
        this.azimuth -= dx * 0.006;
        this.polar = Math.min(MAX_POLAR, Math.max(MIN_POLAR, this.polar - dy * 0.006));
      }
    };
    const up = (): void => {
      this.drag = null;
    };
    const wheel = (e: WheelEvent): void => {
      e.preventDefault();
      this.gliding = false;
      this.fitted = false;
      this.distance = Math.min(400, Math.max(2, this.distance * Math.exp(e.deltaY * 0.001)));
      this.goalDistance = this.distance;
    };
    const menu = (e: Event): void => e.preventDefault();
    el.addEventListener('pointerdown', down);
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    el.addEventListener('wheel', wheel, { passive: false });
    el.addEventListener('contextmenu', menu);
    return () => {
      el.removeEventListener('pointerdown', down);
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      el.removeEventListener('wheel', wheel);
      el.removeEventListener('contextmenu', menu);
      this.el = null;
    };
  }

  /** Pans the target in the floor plane, scaled to the view. */
  private pan(dx: number, dy: number): void {
    this.gliding = false;
    const h = this.el?.clientHeight ?? 600;
    const scale = (this.distance * 1.1) / h;
    const ca = Math.cos(this.azimuth);
    const sa = Math.sin(this.azimuth);
    // screen right = (cos a, 0, −sin a); screen up projected on the floor = (−sin a, 0, −cos a)
    this.tmp.set(-dx * ca - dy * sa, 0, dx * sa - dy * ca).multiplyScalar(scale);
    this.target.add(this.tmp);
    this.goal.copy(this.target);
  }
}
