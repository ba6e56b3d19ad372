/**
 * How the hall is lit: `full` (image-based environment light, soft baked shadows, antialiasing)
 * or `simple` (hemisphere and key light only, no shadows, no antialiasing). A browser that draws
 * WebGL in software (SwiftShader, llvmpipe: a laptop or VM without GPU acceleration, a headless
 * browser) renders the full hall at about half the frame rate of the simple one, so the page
 * picks `simple` there by itself. `?light=full` or `?light=simple` in the URL decides instead.
 */

/** The hall's lighting. */
export type LightMode = 'full' | 'simple';

/** Renderer names of WebGL implemented on the CPU. */
const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

/** Whether a WebGL renderer string names a software renderer. */
export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE.test(renderer);
}

/** The renderer string of this browser's WebGL (the unmasked one where the browser gives it), or '' without WebGL. */
export function webglRenderer(): string {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
  if (gl === null) return '';
  try {
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = info !== null ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    return typeof name === 'string' ? name : '';
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

/** The lighting the URL asks for (`light=full|simple`), else `simple` on a software renderer and `full` otherwise. */
export function chooseLight(search: string, renderer: () => string = webglRenderer): { mode: LightMode; renderer: string } {
  const asked = new URLSearchParams(search).get('light');
  if (asked === 'full' || asked === 'simple') return { mode: asked, renderer: '' };
  const name = renderer();
  return { mode: isSoftwareRenderer(name) ? 'simple' : 'full', renderer: name };
}
