// board.js: whiteboard helpers with no DOM state of their own: free-space
// placement, the clipboard (in memory and in localStorage, so it works across
// canvases and tabs), fetching an image's bytes, and the shortcuts dialog.

import { authHeaders, ApiError } from './api.js';
import { h, modal } from './ui.js';

const CLIP_KEY = 'canvasd.clipboard';
const GAP = 24;

/**
 * findFree returns the top-left of a w×h rectangle near (cx, cy) (its wanted
 * centre) that overlaps none of rects (each {x, y, w, h}), searching square
 * rings of candidate positions outwards, nearest first.
 */
export function findFree(rects, w, h, cx, cy) {
  const x0 = cx - w / 2;
  const y0 = cy - h / 2;
  const hits = (x, y) => {
    for (const r of rects) {
      if (x < r.x + r.w + GAP && x + w + GAP > r.x && y < r.y + r.h + GAP && y + h + GAP > r.y) return true;
    }
    return false;
  };
  // Only the rectangles near the search area matter.
  const step = Math.max(24, Math.min(w, h) / 4);
  if (!hits(x0, y0)) return { x: x0, y: y0 };
  for (let k = 1; k <= 80; k++) {
    const ring = [];
    for (let i = -k; i <= k; i++) {
      ring.push([i, -k], [i, k]);
      if (i > -k && i < k) ring.push([-k, i], [k, i]);
    }
    ring.sort((a, b) => Math.hypot(a[0], a[1]) - Math.hypot(b[0], b[1]));
    for (const [i, j] of ring) {
      const x = x0 + i * step;
      const y = y0 + j * step;
      if (!hits(x, y)) return { x, y };
    }
  }
  return { x: x0, y: y0 };
}

/** fetchBlob downloads a binary with the session's credentials. */
export async function fetchBlob(path) {
  const res = await fetch(path, { headers: authHeaders(path), credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, `Could not read the image (${res.status})`);
  return res.blob();
}

// The in-memory clipboard survives a failing localStorage (private mode).
let memClip = null;

/** writeClip stores copied widgets: {canvas, items: [{snap}]}. */
export function writeClip(clip) {
  memClip = clip;
  try { localStorage.setItem(CLIP_KEY, JSON.stringify(clip)); } catch { /* kept in memory */ }
}

/** readClip returns the newest clipboard (another tab may have copied since). */
export function readClip() {
  try {
    const s = localStorage.getItem(CLIP_KEY);
    if (s) return JSON.parse(s);
  } catch { /* fall back to memory */ }
  return memClip;
}

/**
 * tableGrid lays a Table widget's cells ({r, c, rowspan, colspan, text})
 * out as rows of strings; a spanned cell's text sits in its top-left slot.
 */
export function tableGrid(t) {
  const cells = (t && t.cells) || [];
  const nRows = Number(t && t.n_rows) || Math.max(0, ...cells.map((c) => (c.r | 0) + (c.rowspan || 1)));
  const nCols = Number(t && t.n_cols) || Math.max(0, ...cells.map((c) => (c.c | 0) + (c.colspan || 1)));
  const grid = Array.from({ length: nRows }, () => Array(nCols).fill(''));
  for (const c of cells) {
    if (grid[c.r] && c.c >= 0 && c.c < nCols) grid[c.r][c.c] = String(c.text ?? '');
  }
  return grid;
}

/** toCSV writes rows as RFC 4180 CSV (CRLF line ends, quotes where needed). */
export function toCSV(rows) {
  const q = (v) => (/[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v);
  return rows.map((r) => r.map(q).join(',')).join('\r\n') + '\r\n';
}

/** toTSV writes rows as tab-separated text, as spreadsheets paste it (tabs and line breaks in a cell become spaces). */
export function toTSV(rows) {
  return rows.map((r) => r.map((v) => v.replace(/[\t\r\n]+/g, ' ')).join('\t')).join('\n') + '\n';
}

/** download saves text as a file. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** copyText puts text on the system clipboard (with a fallback for pages without the async API). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { /* refused */ }
    ta.remove();
    return ok;
  }
}

export const SHORTCUTS = [
  ['Editing', [
    ['Double-click a note', 'Edit its text'],
    ['Double-click the background', 'Add a note there'],
    ['Enter', 'Edit the selected note'],
    ['Enter (while editing)', 'New line'],
    ['Esc, Ctrl/⌘ + Enter', 'Finish editing (saves)'],
    ['N', 'New note in free space near the centre'],
  ]],
  ['Selection', [
    ['Click, Shift + click', 'Select, add or remove'],
    ['Shift + drag on the background', 'Box select'],
    ['Drag a corner of a multi-selection', 'Resize the group'],
    ['Ctrl/⌘ + A', 'Select everything on the canvas'],
    ['Esc', 'Clear the selection'],
    ['Delete, Backspace', 'Delete the selection (undo brings it back)'],
    ['Ctrl/⌘ + C, Ctrl/⌘ + V', 'Copy, paste (also into another canvas)'],
    ['Ctrl/⌘ + D', 'Duplicate'],
    ['] / [', 'Bring to front / send to back'],
    ['L', 'Lock or unlock'],
    ['Arrow keys (Shift: ×10)', 'Nudge'],
  ]],
  ['Undo', [
    ['Ctrl/⌘ + Z', 'Undo your last change'],
    ['Ctrl/⌘ + Shift + Z, Ctrl/⌘ + Y', 'Redo'],
  ]],
  ['Tools', [
    ['C', 'Connector tool: drag from one item to another'],
    ['P', 'Pen: draw ink'],
    ['Drag the dot on a selected item', 'Connect it to another item'],
    ['Click a connector or ink', 'Select it (Delete removes it)'],
    ['Double-click a table cell', 'Edit it (Enter saves)'],
    ['F', 'Add an anchor (a named frame)'],
    ['Double-click an anchor\'s name', 'Rename it'],
    ['Anchors menu', 'Jump to an anchor'],
    ['Digitize as Text', 'Adds the text as a note beside the image'],
    ['A selected table: CSV, TSV', 'Download as CSV, copy as TSV (pastes into a spreadsheet)'],
  ]],
  ['Navigation', [
    ['Drag the background, Space + drag', 'Pan'],
    ['Two-finger scroll, wheel', 'Pan (Shift: sideways)'],
    ['Pinch, Ctrl/⌘ + wheel', 'Zoom'],
    ['Ctrl/⌘ + 0', 'Fit to content'],
    ['M', 'Show or hide the minimap (click it to move there)'],
    ['Click a person\'s avatar', 'Follow their view (Esc stops)'],
    ['?', 'This help'],
  ]],
];

const KEY = /^(Ctrl\/⌘|Shift|Enter|Esc|Delete|Backspace|Space|Arrow keys|[A-Z0-9?[\]])$/;

/** keyPart shows a key as a key cap and anything else (a gesture, a separator) as text. */
function keyPart(part) {
  const m = /^(.*?)( \(.*\))?$/.exec(part);
  return KEY.test(m[1]) ? [h('kbd', m[1]), m[2] || ''] : part;
}

/** helpDialog lists the keyboard shortcuts. */
export function helpDialog() {
  if (document.querySelector('.help-dialog')) return null;
  const body = h('div.shortcuts', SHORTCUTS.map(([group, rows]) => h('section',
    h('h3', group),
    h('dl', rows.map(([k, what]) => [h('dt', k.split(/(\s\+\s|,\s|\s\/\s)/).map(keyPart)), h('dd', what)])))));
  return modal({ title: 'Keyboard shortcuts', body, wide: false, className: 'help-dialog' });
}
