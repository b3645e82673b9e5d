// minimap.js: an overview of the whole canvas in a corner. Widgets are
// painted into a cached layer (redrawn at most every 120 ms when content
// changes); each pan or zoom frame only copies that layer and draws the
// viewport's frame. A click or drag on the map moves the view there.
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
    this.node = h('div.minimap#minimap', { title: 'Minimap: click or drag to move the view (M hides it)' }, this.canvas);
    this.layer = document.createElement('canvas');
    this.bounds = null;   // world rectangle the map shows
    this.dirty = true;    // widgets changed since the layer was painted
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

  /** contentChanged marks the widget layer for a repaint. */
  contentChanged() {
    this.dirty = true;
  }

  /** draw paints the map: the cached widget layer (repainted when due) and the viewport's frame. */
  draw() {
    if (this.node.hidden || !this.v.viewport) return;
    const now = performance.now();
    if (this.dirty) {
      if (now - this.lastPaint >= REDRAW_MS) {
        this.paintLayer();
        this.lastPaint = now;
      } else if (!this.timer) {
        this.timer = setTimeout(() => { this.timer = 0; this.draw(); }, REDRAW_MS);
      }
    }
    const ctx = this.canvas.getContext('2d');
    ctx.clearRect(0, 0, W, H);
    // Attributes are written only when they change: a write costs a style recalc.
    const empty = this.bounds ? 'false' : 'true';
    if (this.node.dataset.empty !== empty) this.node.dataset.empty = empty;
    if (!this.bounds) return;
    ctx.drawImage(this.layer, 0, 0);
    // The viewport's frame, clipped to the map (its size as measured this frame: no forced layout).
    const v = this.v.view;
    const vs = this.v.vpSize || { w: this.v.viewport.clientWidth || 1, h: this.v.viewport.clientHeight || 1 };
    const vw = vs.w;
    const vh = vs.h;
    const vr = { x: -v.x / v.z, y: -v.y / v.z, w: vw / v.z, h: vh / v.z };
    const k = this.scale();
    const b = this.bounds;
    const fx = this.ox + (vr.x - b.x) * k;
    const fy = this.oy + (vr.y - b.y) * k;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, W, H);
    ctx.clip();
    ctx.fillStyle = 'rgba(79,70,229,0.08)';
    ctx.fillRect(fx, fy, vr.w * k, vr.h * k);
    ctx.strokeStyle = '#4f46e5';
    ctx.lineWidth = 1.5;
    ctx.strokeRect(fx, fy, vr.w * k, vr.h * k);
    ctx.restore();
  }

  /** paintLayer draws every widget as a small rectangle into the cached layer. */
  paintLayer() {
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
    this.layer.width = W;
    this.layer.height = H;
    if (this.node.dataset.count !== String(rects.length)) this.node.dataset.count = String(rects.length);
    if (!rects.length) { this.bounds = null; return; }
    this.bounds = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    const k = this.scale();
    this.ox = (W - this.bounds.w * k) / 2;
    this.oy = (H - this.bounds.h * k) / 2;
    const ctx = this.layer.getContext('2d');
    // Anchors first (frames), then the rest in list order.
    rects.sort((a, b) => (a[0].widget_type === 'Anchor' ? 0 : 1) - (b[0].widget_type === 'Anchor' ? 0 : 1));
    for (const [w, r] of rects) {
      const x = this.ox + (r.x - x0) * k;
      const y = this.oy + (r.y - y0) * k;
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
