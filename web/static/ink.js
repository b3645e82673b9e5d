// ink.js: pen strokes, stored as Canvus annotations (widget_type
// "Annotation", made, deleted and streamed through /widgets). A stroke's
// points are a base64 little-endian Float32Array of cubic Bezier nodes, 9
// floats each: the incoming control point, the point and the outgoing
// control point, each (x, y, width), in the coordinates of the stroke's
// parent widget (the canvas root: canvas coordinates).

export const INK_COLOR = '#1f2937';
export const INK_WIDTH = 3;
// MAX_NODES keeps a stroke well inside the server's 256 KiB of base64.
const MAX_NODES = 2000;

/**
 * strokeNodes turns the points a pen drew (world coordinates, at least one)
 * into Bezier nodes: Catmull-Rom tangents, so the stroke is smooth; a dot
 * becomes two nodes on the same point (a stroke has at least two).
 */
export function strokeNodes(pts, width = INK_WIDTH) {
  let p = pts;
  if (p.length > MAX_NODES) {
    const step = p.length / MAX_NODES;
    const out = [];
    for (let i = 0; i < MAX_NODES - 1; i++) out.push(p[Math.floor(i * step)]);
    out.push(p[p.length - 1]);
    p = out;
  }
  if (p.length === 1) p = [p[0], { x: p[0].x + 0.01, y: p[0].y }];
  const f = new Float32Array(p.length * 9);
  for (let i = 0; i < p.length; i++) {
    const prev = p[Math.max(0, i - 1)];
    const next = p[Math.min(p.length - 1, i + 1)];
    const tx = (next.x - prev.x) / 6;
    const ty = (next.y - prev.y) / 6;
    f.set([p[i].x - tx, p[i].y - ty, width, p[i].x, p[i].y, width, p[i].x + tx, p[i].y + ty, width], i * 9);
  }
  return f;
}

/** encodeNodes is the base64 of the floats, little-endian. */
export function encodeNodes(f) {
  const dv = new DataView(new ArrayBuffer(f.length * 4));
  f.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  const bytes = new Uint8Array(dv.buffer);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** decodeNodes reads a stroke's points (null when they are not a stroke). */
export function decodeNodes(b64) {
  if (typeof b64 !== 'string' || !b64) return null;
  let bin;
  try { bin = atob(b64); } catch { return null; }
  if (bin.length % 36 !== 0 || bin.length < 72) return null;
  const dv = new DataView(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) dv.setUint8(i, bin.charCodeAt(i));
  const f = new Float32Array(bin.length / 4);
  for (let i = 0; i < f.length; i++) {
    f[i] = dv.getFloat32(i * 4, true);
    if (!Number.isFinite(f[i])) return null;
  }
  return f;
}

/**
 * strokePath is the SVG path of nodes f, mapped by a parent's placement
 * (ox, oy, s: world = o + p * s); width is the nodes' mean width, scaled.
 */
export function strokePath(f, ox = 0, oy = 0, s = 1) {
  const X = (i) => +(ox + f[i] * s).toFixed(2);
  const Y = (i) => +(oy + f[i + 1] * s).toFixed(2);
  let d = `M${X(3)},${Y(3)}`;
  let w = f[5];
  for (let n = 1; n < f.length / 9; n++) {
    const a = (n - 1) * 9;
    const b = n * 9;
    d += ` C${X(a + 6)},${Y(a + 6)} ${X(b)},${Y(b)} ${X(b + 3)},${Y(b + 3)}`;
    w += f[b + 5];
  }
  const width = (w / (f.length / 9)) * s;
  return { d, width: Number.isFinite(width) && width > 0 ? Math.min(width, 200) : INK_WIDTH };
}

/** previewPath is the SVG path of the points being drawn (world coordinates). */
export function previewPath(pts) {
  if (!pts.length) return '';
  return 'M' + pts.map((p) => `${+p.x.toFixed(2)},${+p.y.toFixed(2)}`).join(' L');
}
