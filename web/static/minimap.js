// minimap.js: an overview of the whole canvas in a corner. Widgets are
// painted on a small canvas, again at most every 120 ms when content
// changes; the viewport's frame is an element moved with a transform, so a
// pan or zoom frame paints nothing. A click or drag on the map moves the
// view there.
//
// Colours reach the 2D context only through safeColor (hex or a fallback).

import { h, safeColor } from './ui.js';

const W = 200;
const H = 136;
const PAD = 8;
const REDRAW_MS = 120;

export class Minimap {
  /**
   * view provides: widgets (Map), rect(w), view {x, y, z}, viewport (the
   * element), centerOn(x, y), cursors (Map of {viewer, viewport}).
   */
  constructor(view) {
    this.v = view;
    this.canvas = h('canvas.minimap-canvas', { width: String(W), height: String(H), 'aria-hidden': 'true' });
    this.frame = h('div.minimap-frame');
    this.node = h('div.minimap#minimap', { title: 'Minimap: click or drag to move the view (M hides it)' }, this.canvas, this.frame);
    this.frameKey = '';
    this.sizeKey = '';
    this.bounds = null;   // world rectangle the map shows
    this.dirty = true;    // widgets changed since the map was painted
    this.lastPaint = 0;
    this.timer = 0;
    this.dragging = false;
    this.node.addEventListener('pointerdown', (e) => {
      e.stopPropagation();
      e.preventDefault();
      this.dragging = true;
      this.node.setPointerCapture(e.pointerId);
      this.moveTo(e);
    });
    this.node.addEventListener('pointermove', (e) => { if (this.dragging) { e.stopPropagation(); this.moveTo(e); } });
    const up = (e) => { this.dragging = false; if (this.node.hasPointerCapture(e.pointerId)) this.node.releasePointerCapture(e.pointerId); };
    this.node.addEventListener('pointerup', up);
    this.node.addEventListener('pointercancel', up);
    this.node.addEventListener('dblclick', (e) => e.stopPropagation());
    this.node.addEventListener('wheel', (e) => e.stopPropagation(), { passive: true });
  }

  get hidden() { return this.node.hidden; }

  set hidden(v) {
    this.node.hidden = v;
    if (!v) { this.dirty = true; this.draw(); }
  }

  /** moveTo centres the view on the world point under the pointer. */
  moveTo(e) {
    const b = this.bounds;
    if (!b) return;
    const r = this.canvas.getBoundingClientRect();
    const k = this.scale();
    const x = b.x + ((e.clientX - r.left) * (W / r.width) - this.ox) / k;
    const y = b.y + ((e.clientY - r.top) * (H / r.height) - this.oy) / k;
    this.v.centerOn(x, y);
  }

  scale() {
    const b = this.bounds;
    return Math.min((W - PAD * 2) / Math.max(1, b.w), (H - PAD * 2) / Math.max(1, b.h));
  }

  /** contentChanged marks the widgets for a repaint. */
  contentChanged() {
    this.dirty = true;
  }

  /** draw updates the map: the widgets (repainted when due) and the viewport's frame. */
  draw() {
    if (this.node.hidden || !this.v.viewport) return;
    // The viewport in world units (its size as measured this frame: no forced layout).
    const v = this.v.view;
    const vs = this.v.vpSize || { w: this.v.viewport.clientWidth || 1, h: this.v.viewport.clientHeight || 1 };
    const vr = { x: -v.x / v.z, y: -v.y / v.z, w: vs.w / v.z, h: vs.h / v.z };
    // The map shows the content and, when the view is elsewhere, the view too
    // (with a margin, so a pan repaints it only now and then).
    const c = this.content;
    if (c && (!inside(vr, this.bounds) || (this.bounds !== c && inside(vr, c)))) this.dirty = true;
    const now = performance.now();
    if (this.dirty) {
      if (now - this.lastPaint >= REDRAW_MS) {
        this.paintLayer(vr);
        this.lastPaint = now;
      } else if (!this.timer) {
        this.timer = setTimeout(() => { this.timer = 0; this.draw(); }, REDRAW_MS);
      }
    }
    // Attributes are written only when they change: a write costs a style recalc.
    const empty = this.bounds ? 'false' : 'true';
    if (this.node.dataset.empty !== empty) this.node.dataset.empty = empty;
    if (!this.bounds) return;
    const k = this.scale();
    const b = this.bounds;
    // The frame cut to a little more than the map (the map clips the rest): no huge element when zoomed far out.
    const rx = this.ox + (vr.x - b.x) * k;
    const ry = this.oy + (vr.y - b.y) * k;
    const fx = Math.max(-4, rx);
    const fy = Math.max(-4, ry);
    const fw = Math.max(0, Math.min(W + 4, rx + vr.w * k) - fx);
    const fh = Math.max(0, Math.min(H + 4, ry + vr.h * k) - fy);
    const sizeKey = `${fw.toFixed(1)}|${fh.toFixed(1)}`;
    if (sizeKey !== this.sizeKey) {
      this.sizeKey = sizeKey;
      this.frame.style.width = fw.toFixed(1) + 'px';
      this.frame.style.height = fh.toFixed(1) + 'px';
    }
    const frameKey = `${fx.toFixed(1)}|${fy.toFixed(1)}`;
    if (frameKey !== this.frameKey) {
      this.frameKey = frameKey;
      this.frame.style.transform = `translate(${fx.toFixed(1)}px, ${fy.toFixed(1)}px)`;
    }
  }

  /** paintLayer draws every widget as a small rectangle; vr is the viewport's world rectangle. */
  paintLayer(vr) {
    this.dirty = false;
    const rects = [];
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const w of this.v.widgets.values()) {
      if (w.widget_type === 'SharedCanvas' || w.widget_type === 'Connector') continue;
      const r = this.v.rect(w);
      if (!(r.w > 0 && r.h > 0)) continue;
      rects.push([w, r]);
      x0 = Math.min(x0, r.x); y0 = Math.min(y0, r.y);
      x1 = Math.max(x1, r.x + r.w); y1 = Math.max(y1, r.y + r.h);
    }
    const ctx = this.canvas.getContext('2d');
    ctx.clearRect(0, 0, W, H);
    if (this.node.dataset.count !== String(rects.length)) this.node.dataset.count = String(rects.length);
    if (!rects.length) { this.bounds = null; this.content = null; return; }
    this.content = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    this.bounds = this.content;
    if (vr && !inside(vr, this.content)) {
      const ux0 = Math.min(x0, vr.x), uy0 = Math.min(y0, vr.y);
      const uw = Math.max(x1, vr.x + vr.w) - ux0, uh = Math.max(y1, vr.y + vr.h) - uy0;
      this.bounds = { x: ux0 - uw * 0.1, y: uy0 - uh * 0.1, w: uw * 1.2, h: uh * 1.2 };
    }
    const bx = this.bounds.x, by = this.bounds.y;
    const k = this.scale();
    this.ox = (W - this.bounds.w * k) / 2;
    this.oy = (H - this.bounds.h * k) / 2;
    // Anchors first (frames), then the rest in list order.
    rects.sort((a, b) => (a[0].widget_type === 'Anchor' ? 0 : 1) - (b[0].widget_type === 'Anchor' ? 0 : 1));
    for (const [w, r] of rects) {
      const x = this.ox + (r.x - bx) * k;
      const y = this.oy + (r.y - by) * k;
      const rw = Math.max(1.5, r.w * k);
      const rh = Math.max(1.5, r.h * k);
      switch (w.widget_type) {
        case 'Anchor':
          ctx.strokeStyle = '#94a3b8';
          ctx.lineWidth = 1;
          ctx.strokeRect(x, y, rw, rh);
          break;
        case 'Note':
          ctx.fillStyle = safeColor(w.background_color, '#ffffff').slice(0, 7);
          ctx.fillRect(x, y, rw, rh);
          ctx.strokeStyle = 'rgba(16,24,40,0.25)';
          ctx.lineWidth = 0.5;
          ctx.strokeRect(x, y, rw, rh);
          break;
        case 'Image':
          ctx.fillStyle = '#8da2c0';
          ctx.fillRect(x, y, rw, rh);
          break;
        default:
          ctx.fillStyle = '#cbd5e1';
          ctx.fillRect(x, y, rw, rh);
      }
    }
  }
}

/** inside tells whether rectangle a lies within b. */
function inside(a, b) {
  return !!b && a.x >= b.x && a.y >= b.y && a.x + a.w <= b.x + b.w && a.y + a.h <= b.y + b.h;
}
