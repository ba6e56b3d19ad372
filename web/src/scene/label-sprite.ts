/**
 * Text labels in the 3D scene as sprites with a canvas texture: a few lines, the first bold.
 * Made when the text changes (about once a second for the network overlay), never per frame.
 */
import { CanvasTexture, LinearFilter, Sprite, SpriteMaterial } from 'three';

/**
 * Pixels per line of the texture, and its height on screen (a share of the view's height: the
 * labels keep their size whatever the zoom, so the line stays readable from afar).
 */
const LINE_PX = 36;
const LINE_SCREEN = 0.022;

/** A sprite showing `lines`, anchored at its bottom centre; `red` draws it as unusual. The caller disposes it with `disposeLabel`. */
export function labelSprite(lines: readonly string[], red: boolean): Sprite {
  const shown = lines.filter((l) => l !== '');
  const canvas = document.createElement('canvas');
  // the page's own font stack (styles.css), so Chinese labels find the same CJK font as the HTML
  const family = getComputedStyle(document.documentElement).fontFamily || 'sans-serif';
  const font = (bold: boolean): string => `${bold ? '600 ' : ''}${LINE_PX * 0.72}px ${family}`;
  draw(canvas, shown, red, font);
  const map = new CanvasTexture(canvas);
  map.minFilter = LinearFilter;
  const sprite = new Sprite(new SpriteMaterial({ map, depthTest: false, transparent: true, sizeAttenuation: false }));
  const fit = (): void => {
    const h = (canvas.height / LINE_PX) * LINE_SCREEN;
    sprite.scale.set((h * canvas.width) / canvas.height, h, 1);
  };
  fit();
  // a web font's slices load when text first asks for them, and a canvas does not wait: draw
  // again once the glyphs of these lines are there (Chinese from the shipped font, not boxes)
  const text = shown.join('');
  const fonts = typeof document.fonts === 'undefined' ? null : document.fonts;
  if (fonts !== null && ![font(true), font(false)].every((f) => fonts.check(f, text))) {
    void Promise.all([fonts.load(font(true), text), fonts.load(font(false), text)]).then(() => {
      if (sprite.material.map !== map) return;
      draw(canvas, shown, red, font);
      fit();
      map.dispose();
      map.needsUpdate = true;
    }, () => undefined);
  }
  // anchored at its bottom centre: placed just above its node
  sprite.center.set(0.5, 0);
  sprite.renderOrder = 10;
  return sprite;
}

/** Draws the label's plate and lines on `canvas`, sized to them. */
function draw(canvas: HTMLCanvasElement, shown: readonly string[], red: boolean, font: (bold: boolean) => string): void {
  const g = canvas.getContext('2d');
  let width = 64;
  if (g !== null) {
    shown.forEach((l, k) => {
      g.font = font(k === 0);
      width = Math.max(width, g.measureText(l).width + 24);
    });
  }
  canvas.width = Math.ceil(width);
  canvas.height = LINE_PX * shown.length + 12;
  if (g === null) return;
  g.fillStyle = red ? 'rgba(120, 16, 16, 0.85)' : 'rgba(13, 17, 23, 0.78)';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.strokeStyle = red ? '#ff5a4f' : '#30363d';
  g.lineWidth = 3;
  g.strokeRect(1.5, 1.5, canvas.width - 3, canvas.height - 3);
  g.textBaseline = 'middle';
  shown.forEach((l, k) => {
    g.font = font(k === 0);
    g.fillStyle = k === 0 ? '#e6edf3' : '#aab4be';
    g.fillText(l, 12, 6 + LINE_PX * (k + 0.5));
  });
}

/** Frees a label's texture and material. */
export function disposeLabel(s: Sprite): void {
  s.material.map?.dispose();
  // a redraw still waiting on the fonts sees this and leaves the label alone
  s.material.map = null;
  s.material.dispose();
}
