// canvas.js: the canvas view. Widgets are DOM elements in a "world" layer
// that is panned and zoomed with one CSS transform; selection boxes, remote
// cursors and the floating toolbar live in a screen-space overlay so they keep
// their size at any zoom. Every edit goes through REST; the websocket brings
// everyone's changes (ours included) back in seq order.

import { api, upload, ApiError } from './api.js';
import { h, svg, icon, toast, confirmDialog, promptDialog, initials } from './ui.js';
import { Live } from './live.js';
import { openRecrop, openUncrop, openDigitize } from './tools.js';

export const NOTE_COLORS = [
  ['Lemon', '#fff1a8'], ['Peach', '#ffd8b5'], ['Rose', '#ffd3de'], ['Lilac', '#e4dcff'],
  ['Sky', '#cfe8ff'], ['Mint', '#c9f2dc'], ['Paper', '#ffffff'],
];

const MIN_Z = 0.05;
const NUMBER = /^[-+−]?[$€£¥(]?[-+−]?[\d.,\s]*\d[\d.,]*\s?[%KMBkmb]?\)?$/;
const MAX_Z = 6;
const DRAG_THRESHOLD = 3;

function num(v, d = 0) { return typeof v === 'number' && isFinite(v) ? v : d; }
function clamp(v, a, b) { return Math.max(a, Math.min(b, v)); }

/** luminance of a #rgb / #rrggbb(aa) colour, 0..1 (1 when unparsable). */
export function luminance(c) {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(String(c || '').trim());
  if (!m) return 1;
  let hex = m[1];
  if (hex.length === 3) hex = hex.split('').map((x) => x + x).join('');
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** tableOf finds a Table widget's grid, wherever the server put it. */
export function tableOf(w) {
  for (const t of [w, w.table, w.digitized, w.digitized && w.digitized.table, w.result]) {
    if (t && typeof t === 'object' && Array.isArray(t.cells)) return t;
  }
  return null;
}

export class CanvasView {
  constructor(id, ctx) {
    this.id = id;
    this.ctx = ctx;
    this.widgets = new Map();   // id -> widget JSON
    this.els = new Map();       // id -> element
    this.sigs = new Map();      // id -> content signature
    this.sigObj = new Map();    // id -> widget object last painted
    this.selection = new Set();
    this.viewers = new Map();   // viewer id -> viewer
    this.cursors = new Map();   // viewer id -> {viewer, x, y, selection, at}
    this.view = { x: 0, y: 0, z: 1 };
    this.access = 'view';
    this.canvas = null;
    this.me = null;
    this.rootId = '';
    this.loading = true;
    this.buffer = [];
    this.drag = null;
    this.pointers = new Map();
    this.editing = null;
    this.spaceDown = false;
    this.lastCursor = null;
    this.rafPending = false;
    this.fitted = false;
    this.build();
  }

  get canEdit() { return this.access === 'edit' || this.access === 'owner'; }

  // ---------------------------------------------------------------- layout

  build() {
    const c = this.ctx;
    this.titleEl = h('button.canvas-title#canvas-title', { type: 'button', title: 'Rename', onclick: () => this.rename() }, 'Loading…');
    this.statusEl = h('span.conn#conn-status', { dataset: { state: 'connecting' } }, h('span.dot'), h('span.conn-text', 'Connecting…'));
    this.viewersEl = h('div.viewers#viewers', { 'aria-label': 'People on this canvas' });
    this.accessEl = h('span.badge.view#view-only', { hidden: true }, icon('eye'), 'View only');
    this.fileInput = h('input#file-input', { type: 'file', accept: 'image/*', multiple: true, hidden: true, onchange: () => { this.uploadFiles([...this.fileInput.files]); this.fileInput.value = ''; } });
    this.tools = h('div.tools',
      h('button.tool#tool-note', { type: 'button', title: 'Add a note (N)', onclick: () => this.addNoteAtCenter() }, icon('note'), h('span', 'Note')),
      h('button.tool#tool-image', { type: 'button', title: 'Upload images', onclick: () => this.fileInput.click() }, icon('image'), h('span', 'Image')),
      this.fileInput);
    this.shareBtn = h('button.btn.primary.small#share-btn', { type: 'button', hidden: true, onclick: () => this.canvas && c.shareDialog(this.canvas) }, icon('share'), 'Share');
    const topbar = h('header.topbar.canvas-bar',
      h('a.icon-btn.back', { href: '/', title: 'All canvases', 'aria-label': 'All canvases', onclick: (e) => { e.preventDefault(); c.navigate('/'); } }, icon('back')),
      h('span.logo.small', { 'aria-hidden': 'true' }),
      this.titleEl, this.accessEl, this.statusEl,
      h('div.spacer'),
      this.tools,
      this.sep = h('div.sep'),
      this.viewersEl, this.shareBtn, c.userMenu());

    this.world = h('div.world');
    this.connSvg = svg('svg', { class: 'connectors', width: '1', height: '1' });
    this.world.append(this.connSvg);
    this.overlay = h('div.overlay');
    this.cursorLayer = h('div.cursor-layer');
    this.floatBar = h('div.floatbar', { hidden: true });
    this.emptyHint = h('div.empty-hint', { hidden: true },
      h('h2', 'This canvas is empty'),
      h('p.muted', 'Double-click anywhere to add a note, or drop images here.'));
    this.dropHint = h('div.drop-hint', h('div', icon('image'), 'Drop images to add them'));
    this.banner = h('div.banner#conn-banner', { hidden: true }, h('span.spinner'), h('span.banner-text', 'Reconnecting…'));
    this.zoomLabel = h('button.zoom-label#zoom-label', { type: 'button', title: 'Reset zoom to 100%', onclick: () => this.zoomTo(1) }, '100%');
    const zoomBar = h('div.zoombar',
      h('button.icon-btn', { type: 'button', title: 'Zoom out', 'aria-label': 'Zoom out', onclick: () => this.zoomBy(1 / 1.25) }, icon('minus')),
      this.zoomLabel,
      h('button.icon-btn', { type: 'button', title: 'Zoom in', 'aria-label': 'Zoom in', onclick: () => this.zoomBy(1.25) }, icon('plus')),
      h('button.icon-btn', { type: 'button', title: 'Fit to content', 'aria-label': 'Fit to content', onclick: () => this.fit() }, icon('fit')));
    this.uploads = h('div.uploads');
    this.viewport = h('div.viewport#viewport', { tabindex: '0' },
      this.world, this.overlay, this.cursorLayer, this.floatBar, this.emptyHint, this.dropHint, zoomBar, this.uploads, this.banner);
    this.node = h('div.page.canvas-page', topbar, this.viewport);

    const vp = this.viewport;
    vp.addEventListener('pointerdown', (e) => this.onPointerDown(e));
    vp.addEventListener('pointermove', (e) => this.onPointerMove(e));
    vp.addEventListener('pointerup', (e) => this.onPointerUp(e));
    vp.addEventListener('pointercancel', (e) => this.onPointerUp(e));
    vp.addEventListener('pointerleave', () => this.sendPresence(null));
    vp.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    vp.addEventListener('dblclick', (e) => this.onDblClick(e));
    vp.addEventListener('dragover', (e) => {
      if (!this.canEdit || !e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
      e.preventDefault();
      vp.classList.add('dropping');
    });
    vp.addEventListener('dragleave', (e) => { if (e.target === vp || !vp.contains(e.relatedTarget)) vp.classList.remove('dropping'); });
    vp.addEventListener('drop', (e) => {
      vp.classList.remove('dropping');
      if (!this.canEdit || !e.dataTransfer || !e.dataTransfer.files.length) return;
      e.preventDefault();
      this.uploadFiles([...e.dataTransfer.files], this.toWorld(e.clientX, e.clientY));
    });
    this.onKey = (e) => this.onKeyDown(e);
    this.onKeyUp = (e) => { if (e.code === 'Space') { this.spaceDown = false; vp.classList.remove('space'); } };
    this.onResize = () => this.schedule();
  }

  async mounted() {
    document.addEventListener('keydown', this.onKey);
    document.addEventListener('keyup', this.onKeyUp);
    window.addEventListener('resize', this.onResize);
    window.__canvasd = Object.assign(window.__canvasd || {}, {
      view: this,
      dropSocket: (holdMs) => this.live && this.live.drop(holdMs),
      statusLog: [],
      state: () => ({
        seq: this.live ? this.live.seq : null,
        status: this.statusEl.dataset.state,
        access: this.access,
        widgets: [...this.widgets.values()].filter((w) => w.widget_type !== 'SharedCanvas'),
        viewers: [...this.viewers.values()],
      }),
    });
    try {
      this.canvas = await api.canvas(this.id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) { this.ctx.signInPage(); return; }
      this.viewport.replaceChildren(h('div.empty-hint', h('h2', e.status === 404 ? 'Canvas not found' : 'Cannot open this canvas'), h('p.muted', e.message),
        h('a.btn', { href: '/', onclick: (ev) => { ev.preventDefault(); this.ctx.navigate('/'); } }, 'All canvases')));
      return;
    }
    if (this.unmounted) return;
    this.applyCanvas(this.canvas);
    this.live = new Live(this.id, {
      onHello: (msg, first) => this.onHello(msg, first),
      onEvent: (env) => this.onEvent(env),
      onPresence: (msg) => this.onPresence(msg),
      onJoin: (v) => { this.viewers.set(v.id, v); this.renderViewers(); },
      onLeave: (v) => { this.viewers.delete(v.id); this.cursors.delete(v.id); this.renderViewers(); this.schedule(); },
      onResync: () => this.load(),
      onStatus: (s, detail) => this.setStatus(s, detail),
    });
    this.live.connect();
    this.viewport.focus({ preventScroll: true });
  }

  unmount() {
    this.unmounted = true;
    document.removeEventListener('keydown', this.onKey);
    document.removeEventListener('keyup', this.onKeyUp);
    window.removeEventListener('resize', this.onResize);
    if (this.live) this.live.close();
  }

  applyCanvas(cv) {
    this.canvas = { ...this.canvas, ...cv };
    if (cv.access) this.access = cv.access;
    this.titleEl.textContent = this.canvas.name || 'Untitled canvas';
    document.title = `${this.canvas.name} · canvasd`;
    this.titleEl.disabled = !this.canEdit;
    this.node.classList.toggle('readonly', !this.canEdit);
    this.accessEl.hidden = this.canEdit;
    this.tools.hidden = !this.canEdit;
    this.sep.hidden = !this.canEdit;
    this.shareBtn.hidden = this.access !== 'owner';
    this.schedule();
  }

  setStatus(s, detail) {
    if (window.__canvasd && window.__canvasd.statusLog) window.__canvasd.statusLog.push(s);
    this.statusEl.dataset.state = s;
    const text = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', closed: 'Offline' }[s] || s;
    this.statusEl.querySelector('.conn-text').textContent = text;
    this.banner.hidden = s === 'live' || s === 'connecting';
    this.banner.querySelector('.banner-text').textContent = detail || (s === 'closed' ? 'Offline' : 'Reconnecting… your view will catch up.');
    this.banner.classList.toggle('error', s === 'closed');
  }

  // ------------------------------------------------------------ live data

  onHello(msg, first) {
    this.me = msg.you || null;
    if (msg.access && msg.access !== this.access) this.applyCanvas({ access: msg.access });
    this.viewers.clear();
    for (const v of msg.viewers || []) this.viewers.set(v.id, v);
    if (this.me) this.viewers.set(this.me.id, this.me);
    for (const id of [...this.cursors.keys()]) if (!this.viewers.has(id)) this.cursors.delete(id);
    this.renderViewers();
    if (first) this.load();
    if (this.lastCursor) this.sendPresence(this.lastCursor);
  }

  /** load replaces every widget with a fresh list; events that arrive meanwhile are applied after. */
  async load() {
    this.loading = true;
    this.buffer = [];
    let list;
    try {
      list = await api.widgets(this.id);
    } catch (e) {
      toast('Could not load the canvas: ' + e.message, 'error');
      this.loading = false;
      return;
    }
    this.widgets.clear();
    for (const w of list) this.widgets.set(w.id, w);
    this.loading = false;
    const buf = this.buffer;
    this.buffer = [];
    for (const env of buf) this.apply(env);
    for (const id of [...this.selection]) if (!this.widgets.has(id)) this.selection.delete(id);
    if (!this.fitted) { this.fitted = true; this.fit(true); }
    this.schedule();
  }

  onEvent(env) {
    if (this.loading) { this.buffer.push(env); return; }
    this.apply(env);
  }

  apply(env) {
    switch (env.type) {
      case 'CANVAS_UPDATED':
        if (env.canvas) {
          const { access, ...rest } = env.canvas;
          this.applyCanvas(rest);
          // Sharing may have changed what we may do.
          api.canvas(this.id).then((cv) => this.applyCanvas(cv), () => {});
        }
        return;
      case 'CANVAS_DELETED':
        toast('This canvas was deleted.', 'error', 6000);
        this.ctx.navigate('/');
        return;
    }
    const w = env.widget;
    if (!w || !w.id) return;
    if (w.state === 'deleted' || env.type === 'WIDGET_DELETED') {
      this.widgets.delete(w.id);
      this.selection.delete(w.id);
      if (this.editing === w.id) this.editing = null;
    } else {
      this.widgets.set(w.id, w);
    }
    this.schedule();
  }

  onPresence(msg) {
    const v = msg.viewer;
    if (!v || (this.me && v.id === this.me.id)) return;
    if (!this.viewers.has(v.id)) { this.viewers.set(v.id, v); this.renderViewers(); }
    const c = this.cursors.get(v.id) || { viewer: v };
    c.viewer = v;
    if ('cursor' in msg) c.cursor = msg.cursor || null;
    if (msg.selection) c.selection = msg.selection;
    this.cursors.set(v.id, c);
    this.schedule();
  }

  sendPresence(cursor) {
    this.lastCursor = cursor;
    if (this.live) this.live.presence(cursor, [...this.selection]);
  }

  renderViewers() {
    const vs = [...this.viewers.values()];
    vs.sort((a, b) => (this.me && a.id === this.me.id ? -1 : this.me && b.id === this.me.id ? 1 : a.name.localeCompare(b.name)));
    const shown = vs.slice(0, 5);
    this.viewersEl.replaceChildren(...[
      ...shown.map((v) => h('span.avatar.viewer', {
        title: v.name + (this.me && v.id === this.me.id ? ' (you)' : ''),
        style: { background: v.color }, dataset: { viewer: v.id, name: v.name },
      }, initials(v.name))),
      vs.length > 5 ? h('span.avatar.more', `+${vs.length - 5}`) : null,
      h('span.viewer-count', vs.length === 1 ? 'Only you' : `${vs.length} here`)].filter(Boolean));
  }

  // -------------------------------------------------------- coordinates

  root() { return this.widgets.get(this.rootId) || [...this.widgets.values()].find((w) => w.widget_type === 'SharedCanvas'); }

  /** abs returns a widget's world origin and cumulative scale. */
  abs(w, seen = 0) {
    const loc = this.drag && this.drag.id === w.id && this.drag.loc ? this.drag.loc : w.location || { x: 0, y: 0 };
    const s = num(w.scale, 1);
    const p = w.parent_id && this.widgets.get(w.parent_id);
    if (!p || p.widget_type === 'SharedCanvas' || seen > 32) return { x: num(loc.x), y: num(loc.y), s };
    const pa = this.abs(p, seen + 1);
    return { x: pa.x + num(loc.x) * pa.s, y: pa.y + num(loc.y) * pa.s, s: pa.s * s };
  }

  /** rect returns a widget's world rectangle. */
  rect(w) {
    const a = this.abs(w);
    const size = this.drag && this.drag.id === w.id && this.drag.size ? this.drag.size : w.size || { width: 0, height: 0 };
    return { x: a.x, y: a.y, w: num(size.width) * a.s, h: num(size.height) * a.s, s: a.s };
  }

  parentScale(w) {
    const p = w.parent_id && this.widgets.get(w.parent_id);
    return !p || p.widget_type === 'SharedCanvas' ? 1 : this.abs(p).s;
  }

  toWorld(clientX, clientY) {
    const r = this.viewport.getBoundingClientRect();
    return { x: (clientX - r.left - this.view.x) / this.view.z, y: (clientY - r.top - this.view.y) / this.view.z };
  }

  toScreen(x, y) { return { x: x * this.view.z + this.view.x, y: y * this.view.z + this.view.y }; }

  zoomAt(sx, sy, z) {
    z = clamp(z, MIN_Z, MAX_Z);
    const v = this.view;
    const wx = (sx - v.x) / v.z;
    const wy = (sy - v.y) / v.z;
    v.z = z;
    v.x = sx - wx * z;
    v.y = sy - wy * z;
    this.schedule();
  }

  zoomBy(f) {
    const r = this.viewport.getBoundingClientRect();
    this.zoomAt(r.width / 2, r.height / 2, this.view.z * f);
  }

  zoomTo(z) {
    const r = this.viewport.getBoundingClientRect();
    this.zoomAt(r.width / 2, r.height / 2, z);
  }

  fit(initial = false) {
    const ws = [...this.widgets.values()].filter((w) => w.widget_type !== 'SharedCanvas' && w.widget_type !== 'Connector');
    const r = this.viewport.getBoundingClientRect();
    if (!ws.length) {
      this.view = { x: r.width / 2, y: r.height / 2, z: 1 };
      this.schedule();
      return;
    }
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const w of ws) {
      const b = this.rect(w);
      x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y);
      x1 = Math.max(x1, b.x + b.w); y1 = Math.max(y1, b.y + b.h);
    }
    const pad = 64;
    const z = clamp(Math.min((r.width - pad * 2) / Math.max(1, x1 - x0), (r.height - pad * 2) / Math.max(1, y1 - y0), initial ? 1 : MAX_Z), MIN_Z, MAX_Z);
    this.view = { z, x: r.width / 2 - ((x0 + x1) / 2) * z, y: r.height / 2 - ((y0 + y1) / 2) * z };
    this.render();
  }

  // -------------------------------------------------------------- render

  schedule() {
    if (this.rafPending) return;
    this.rafPending = true;
    requestAnimationFrame(() => { this.rafPending = false; this.render(); });
  }

  render() {
    const v = this.view;
    this.world.style.transform = `translate(${v.x}px, ${v.y}px) scale(${v.z})`;
    const grid = 24 * v.z;
    this.viewport.style.backgroundSize = `${grid}px ${grid}px`;
    this.viewport.style.backgroundPosition = `${v.x}px ${v.y}px`;
    this.viewport.classList.toggle('zoomed-out', v.z < 0.35);
    this.zoomLabel.textContent = Math.round(v.z * 100) + '%';
    const root = this.root();
    if (root) this.rootId = root.id;

    // Widgets, painted in depth order (parents before children).
    const items = [];
    for (const w of this.widgets.values()) {
      if (w.widget_type === 'SharedCanvas' || w.widget_type === 'Connector') continue;
      items.push({ w, key: this.depthKey(w) });
    }
    items.sort((a, b) => {
      for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
      return a.key.length - b.key.length;
    });
    const live = new Set();
    items.forEach(({ w }, i) => {
      live.add(w.id);
      let el = this.els.get(w.id);
      if (!el) {
        el = h('div.widget.w-' + w.widget_type.toLowerCase(), { dataset: { id: w.id, type: w.widget_type } });
        this.els.set(w.id, el);
        this.world.insertBefore(el, this.connSvg);
      }
      this.updateContent(el, w);
      const r = this.rect(w);
      const size = this.drag && this.drag.id === w.id && this.drag.size ? this.drag.size : w.size || {};
      el.style.width = num(size.width) + 'px';
      el.style.height = num(size.height) + 'px';
      el.style.transform = `translate(${r.x}px, ${r.y}px) scale(${r.s})`;
      el.style.zIndex = String(i + 1);
      el.dataset.x = String(Math.round(r.x * 100) / 100);
      el.dataset.y = String(Math.round(r.y * 100) / 100);
      el.dataset.w = String(Math.round(r.w * 100) / 100);
      el.dataset.h = String(Math.round(r.h * 100) / 100);
      el.classList.toggle('selected', this.selection.has(w.id));
      el.classList.toggle('dragging', !!(this.drag && this.drag.id === w.id && this.drag.moved));
    });
    for (const [id, el] of this.els) {
      if (!live.has(id)) { el.remove(); this.els.delete(id); this.sigs.delete(id); this.sigObj.delete(id); }
    }
    this.connSvg.style.zIndex = String(items.length + 2);
    this.renderConnectors();
    this.renderOverlay();
    this.renderCursors();
    this.emptyHint.hidden = this.loading || items.length > 0;
  }

  depthKey(w) {
    const key = [];
    let cur = w;
    for (let i = 0; cur && cur.widget_type !== 'SharedCanvas' && i < 32; i++) {
      key.unshift(num(cur.depth));
      cur = cur.parent_id && this.widgets.get(cur.parent_id);
    }
    return key;
  }

  imageURL(w) {
    const v = `${w.hash || ''}.${w.version ?? ''}`;
    return `/api/v1/canvases/${this.id}/images/${w.id}/download?v=${encodeURIComponent(v)}`;
  }

  updateContent(el, w) {
    if (this.sigObj.get(w.id) === w && this.editing !== w.id) return; // unchanged since the last paint
    this.sigObj.set(w.id, w);
    let sig;
    switch (w.widget_type) {
      case 'Note': sig = JSON.stringify([w.text, w.title, w.background_color, w.text_color]); break;
      case 'Image': sig = JSON.stringify([w.hash, w.version, w.title]); break;
      case 'Anchor': sig = JSON.stringify([w.anchor_name]); break;
      case 'Table': sig = JSON.stringify([tableOf(w), w.title, w.size]); break;
      default: sig = JSON.stringify([w.title, w.widget_type]);
    }
    if (this.editing === w.id) return;
    if (this.sigs.get(w.id) === sig) return;
    this.sigs.set(w.id, sig);
    switch (w.widget_type) {
      case 'Note': {
        const bg = w.background_color || '#ffffff';
        el.style.background = bg;
        const dark = luminance(bg) < 0.5;
        el.style.color = w.text_color && !/^#?f{6,8}$/i.test(w.text_color) && !dark ? w.text_color : dark ? '#f8fafc' : '#1f2430';
        el.replaceChildren(...[
          w.title ? h('div.note-title', w.title) : null,
          h('div.note-text', w.text || '')].filter(Boolean));
        el.classList.toggle('empty', !w.text && !w.title);
        break;
      }
      case 'Image': {
        const url = this.imageURL(w);
        let img = el.querySelector('img');
        if (!img) {
          img = h('img', { alt: w.title || w.original_filename || 'Image', draggable: false });
          img.addEventListener('load', () => el.classList.add('loaded'));
          el.replaceChildren(img, h('span.version-chip'));
        }
        if (img.getAttribute('src') !== url) img.setAttribute('src', url);
        el.dataset.version = String(w.version ?? 0);
        el.dataset.hash = w.hash || '';
        const chip = el.querySelector('.version-chip');
        chip.textContent = w.version > 0 ? `v${w.version}` : '';
        chip.hidden = !(w.version > 0);
        break;
      }
      case 'Anchor':
        el.replaceChildren(h('div.anchor-label', w.anchor_name || 'Anchor'));
        break;
      case 'Table':
        el.replaceChildren(this.tableNode(w));
        break;
      default:
        el.replaceChildren(h('div.generic', h('strong', w.widget_type), w.title ? h('span', w.title) : null));
    }
  }

  tableNode(w) {
    const t = tableOf(w);
    const wrap = h('div.table-wrap');
    if (w.title) wrap.append(h('div.table-title', w.title));
    if (!t) { wrap.append(h('p.muted', 'Empty table')); return wrap; }
    const nRows = num(t.n_rows, 0) || Math.max(0, ...t.cells.map((c) => num(c.r) + num(c.rowspan, 1)));
    const headerRows = num(t.header_rows, 0);
    const byRow = Array.from({ length: nRows }, () => []);
    for (const c of t.cells) if (byRow[c.r]) byRow[c.r].push(c);
    const table = h('table.data-table');
    const thead = h('thead');
    const tbody = h('tbody');
    // Right-align the columns that hold numbers, header included.
    const numeric = (c) => (c.value && c.value.num !== null && c.value.num !== undefined) || NUMBER.test(String(c.text || '').trim());
    const votes = new Map();
    for (const c of t.cells) {
      if (c.r < headerRows || !String(c.text || '').trim()) continue;
      const v = votes.get(c.c) || [0, 0];
      v[numeric(c) ? 0 : 1]++;
      votes.set(c.c, v);
    }
    const numCol = (col) => { const v = votes.get(col); return !!v && v[0] > v[1]; };
    byRow.forEach((cells, r) => {
      cells.sort((a, b) => a.c - b.c);
      const isHead = r < headerRows;
      const tr = h('tr', cells.map((c) => h(isHead ? 'th' : 'td', {
        rowspan: c.rowspan > 1 ? String(c.rowspan) : null,
        colspan: c.colspan > 1 ? String(c.colspan) : null,
        class: numCol(c.c) && (c.colspan || 1) === 1 ? 'num' : null,
        title: c.text || null,
      }, c.text)));
      (isHead ? thead : tbody).append(tr);
    });
    // Fit the text to the widget: the grid fills the box, one row per slot.
    const size = w.size || {};
    const W = num(size.width, 400);
    const H = num(size.height, 200);
    const nCols = num(t.n_cols, 0) || Math.max(1, ...t.cells.map((c) => num(c.c) + num(c.colspan, 1)));
    const slot = H / Math.max(1, nRows + (w.title ? 1.4 : 0));
    const longest = Math.max(3, ...t.cells.filter((c) => (c.colspan || 1) === 1).map((c) => String(c.text || '').length));
    const font = clamp(Math.min(slot * 0.5, (W / nCols - 10) / (longest * 0.56), 16), 5, 16);
    wrap.style.fontSize = font.toFixed(2) + 'px';
    wrap.style.setProperty('--pad-y', Math.max(0, (slot - font * 1.3) / 2 - 1).toFixed(2) + 'px');
    wrap.style.setProperty('--pad-x', Math.max(2, Math.min(12, font * 0.7)).toFixed(2) + 'px');
    if (thead.childNodes.length) table.append(thead);
    table.append(tbody);
    wrap.append(table);
    return wrap;
  }

  renderConnectors() {
    const parts = [];
    const defs = svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '8', refY: '5', markerWidth: '6', markerHeight: '6', orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: 'context-stroke' })));
    parts.push(defs);
    for (const w of this.widgets.values()) {
      if (w.widget_type !== 'Connector' || !w.src || !w.dst) continue;
      const a = this.widgets.get(w.src.id);
      const b = this.widgets.get(w.dst.id);
      if (!a || !b) continue;
      const ra = this.rect(a);
      const rb = this.rect(b);
      const pa = { x: ra.x + ra.w * num(w.src.rel_location?.x, 0.5), y: ra.y + ra.h * num(w.src.rel_location?.y, 0.5) };
      const pb = { x: rb.x + rb.w * num(w.dst.rel_location?.x, 0.5), y: rb.y + rb.h * num(w.dst.rel_location?.y, 0.5) };
      let color = (w.line_color || '#64748b').slice(0, 7);
      if (luminance(color) > 0.8) color = '#7c8598';
      let d = `M${pa.x},${pa.y} L${pb.x},${pb.y}`;
      if (w.type === 'curve') {
        const dx = (pb.x - pa.x) / 2;
        d = `M${pa.x},${pa.y} C${pa.x + dx},${pa.y} ${pb.x - dx},${pb.y} ${pb.x},${pb.y}`;
      }
      const attrs = { d, fill: 'none', stroke: color, 'stroke-width': String(Math.max(2, num(w.line_width, 4))), 'stroke-linecap': 'round', 'data-id': w.id };
      if (w.dst.tip && w.dst.tip !== 'none') attrs['marker-end'] = 'url(#arrow)';
      if (w.src.tip && w.src.tip !== 'none') attrs['marker-start'] = 'url(#arrow)';
      parts.push(svg('path', attrs));
    }
    this.connSvg.replaceChildren(...parts);
  }

  renderOverlay() {
    const boxes = [];
    const single = this.selection.size === 1 ? this.widgets.get([...this.selection][0]) : null;
    for (const id of this.selection) {
      const w = this.widgets.get(id);
      if (!w) continue;
      boxes.push(this.screenBox(w, 'sel-box', null, single && this.canEdit && !w.pinned && this.editing !== id));
    }
    // Other viewers' selections, in their colour.
    for (const c of this.cursors.values()) {
      for (const id of c.selection || []) {
        const w = this.widgets.get(id);
        if (!w || this.selection.has(id)) continue;
        boxes.push(this.screenBox(w, 'remote-sel', c.viewer));
      }
    }
    this.overlay.replaceChildren(...boxes);
    this.renderFloatBar(single);
  }

  screenBox(w, cls, viewer, handles) {
    const r = this.rect(w);
    const p = this.toScreen(r.x, r.y);
    const box = h('div.' + cls, {
      style: { transform: `translate(${p.x}px, ${p.y}px)`, width: r.w * this.view.z + 'px', height: r.h * this.view.z + 'px' },
      dataset: { id: w.id },
    });
    if (viewer) {
      box.style.setProperty('--c', viewer.color);
      box.append(h('span.remote-tag', viewer.name));
    }
    if (handles) {
      for (const k of ['nw', 'ne', 'sw', 'se']) box.append(h('span.handle.h-' + k, { dataset: { handle: k, id: w.id } }));
    }
    return box;
  }

  renderFloatBar(single) {
    const bar = this.floatBar;
    const sel = [...this.selection].map((id) => this.widgets.get(id)).filter(Boolean);
    if (!sel.length || !this.canEdit || this.drag || this.editing) { bar.hidden = true; return; }
    const w = single;
    const images = sel.filter((x) => x.widget_type === 'Image');
    const key = w ? `${w.id}:${w.widget_type}:${w.background_color || ''}` : `multi:${sel.length}:${images.length}`;
    if (bar.dataset.key !== key) {
      bar.dataset.key = key;
      const items = [];
      if (w && w.widget_type === 'Note') {
        items.push(h('div.swatches', NOTE_COLORS.map(([name, c]) => h('button.swatch', {
          type: 'button', title: name, 'aria-label': name, style: { background: c },
          class: String(w.background_color || '').toLowerCase().startsWith(c) ? 'on' : null,
          onclick: () => this.patch(w, { background_color: c }),
        }))));
        items.push(h('button.fb-btn#fb-edit', { type: 'button', title: 'Edit text', onclick: () => this.editNote(w.id) }, icon('edit')));
      }
      if (w && w.widget_type === 'Image') {
        items.push(
          h('button.fb-btn#fb-recrop', { type: 'button', title: 'Re-crop against the source page', onclick: () => openRecrop(this, w.id) }, icon('crop'), h('span', 'Re-crop')),
          h('button.fb-btn#fb-uncrop', { type: 'button', title: 'Uncrop (extend the image)', onclick: () => openUncrop(this, w.id) }, icon('expand'), h('span', 'Uncrop')));
      }
      if (!w) items.push(h('span.fb-count', `${sel.length} selected`));
      if (images.length) {
        items.push(h('button.fb-btn#fb-digitize', { type: 'button', title: 'Digitize into tables, chart data or text', onclick: () => openDigitize(this, [...this.selection]) },
          icon('table'), h('span', images.length > 1 ? `Digitize ${images.length}` : 'Digitize')));
      }
      items.push(h('button.fb-btn.danger-text#fb-delete', { type: 'button', title: 'Delete (Del)', onclick: () => this.deleteSelection() }, icon('trash')));
      bar.replaceChildren(...items);
    }
    bar.hidden = false;
    // Above the selection's bounding box, or under it near the top edge.
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const it of sel) {
      const r = this.rect(it);
      x0 = Math.min(x0, r.x); y0 = Math.min(y0, r.y);
      x1 = Math.max(x1, r.x + r.w); y1 = Math.max(y1, r.y + r.h);
    }
    const p = this.toScreen((x0 + x1) / 2, y0);
    const bw = bar.offsetWidth || 200;
    const vw = this.viewport.clientWidth;
    const x = clamp(p.x - bw / 2, 8, Math.max(8, vw - bw - 8));
    const y = p.y - 56 < 8 ? this.toScreen(0, y1).y + 12 : p.y - 56;
    bar.style.transform = `translate(${x}px, ${y}px)`;
  }

  renderCursors() {
    const nodes = [];
    for (const [id, c] of this.cursors) {
      if (!c.cursor) continue;
      const p = this.toScreen(num(c.cursor.x), num(c.cursor.y));
      nodes.push(h('div.cursor', { dataset: { viewer: id, name: c.viewer.name }, style: { transform: `translate(${p.x}px, ${p.y}px)`, '--c': c.viewer.color } },
        h('span.cursor-arrow', { innerHTML: '<svg width="24" height="26" viewBox="0 0 20 22"><path d="M2 2 L2 18 L6.5 13.8 L9.6 20.4 L12.6 19 L9.6 12.6 L16 12.2 Z" fill="currentColor" stroke="#fff" stroke-width="1.6" stroke-linejoin="round"/></svg>' }),
        h('span.cursor-name', c.viewer.name)));
    }
    this.cursorLayer.replaceChildren(...nodes);
  }

  // --------------------------------------------------------- interaction

  onPointerDown(e) {
    if (e.target.closest('.floatbar, .zoombar, .uploads, .banner, .job-panel, .empty-hint a, button')) return;
    this.viewport.focus({ preventScroll: true });
    if (this.editing && !e.target.closest(`.widget[data-id="${this.editing}"]`)) this.commitEdit();
    if (this.editing) return;
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    this.viewport.setPointerCapture(e.pointerId);
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      this.drag = null;
      this.pinch = { d: Math.hypot(a.x - b.x, a.y - b.y), mx: (a.x + b.x) / 2, my: (a.y + b.y) / 2, z: this.view.z };
      return;
    }
    const start = { x: e.clientX, y: e.clientY };
    const handle = e.target.closest('.handle');
    if (handle && this.canEdit) {
      const w = this.widgets.get(handle.dataset.id);
      if (w) {
        this.drag = { kind: 'resize', id: w.id, handle: handle.dataset.handle, start, rect: this.rect(w), w, moved: false };
        e.preventDefault();
        return;
      }
    }
    const wel = e.target.closest('.widget');
    const w = wel && this.widgets.get(wel.dataset.id);
    if (w && !this.spaceDown && e.button === 0) {
      if (e.shiftKey) {
        if (this.selection.has(w.id)) this.selection.delete(w.id); else this.selection.add(w.id);
      } else if (!this.selection.has(w.id)) {
        this.selection = new Set([w.id]);
      }
      this.sendPresence(this.lastCursor);
      if (this.canEdit && !w.pinned) {
        this.drag = { kind: 'move', id: w.id, start, loc0: { ...(w.location || { x: 0, y: 0 }) }, ps: this.parentScale(w), w, moved: false };
      } else {
        this.drag = { kind: 'pan', start, view0: { ...this.view }, moved: false, id: null };
      }
      this.schedule();
      e.preventDefault();
      return;
    }
    // Background: pan; a click without movement clears the selection.
    this.drag = { kind: 'pan', start, view0: { ...this.view }, moved: false, id: null, clear: !e.shiftKey };
    this.viewport.classList.add('panning');
  }

  onPointerMove(e) {
    const world = this.toWorld(e.clientX, e.clientY);
    this.sendPresence({ x: Math.round(world.x * 10) / 10, y: Math.round(world.y * 10) / 10 });
    if (this.pointers.has(e.pointerId)) this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (this.pinch && this.pointers.size >= 2) {
      const [a, b] = [...this.pointers.values()];
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      const mx = (a.x + b.x) / 2;
      const my = (a.y + b.y) / 2;
      const r = this.viewport.getBoundingClientRect();
      this.view.x += mx - this.pinch.mx;
      this.view.y += my - this.pinch.my;
      this.pinch.mx = mx; this.pinch.my = my;
      this.zoomAt(mx - r.left, my - r.top, this.pinch.z * d / Math.max(1, this.pinch.d));
      return;
    }
    const d = this.drag;
    if (!d) return;
    const dx = e.clientX - d.start.x;
    const dy = e.clientY - d.start.y;
    if (!d.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
    d.moved = true;
    if (d.kind === 'pan') {
      this.view.x = d.view0.x + dx;
      this.view.y = d.view0.y + dy;
    } else if (d.kind === 'move') {
      const k = this.view.z * d.ps;
      d.loc = { x: d.loc0.x + dx / k, y: d.loc0.y + dy / k };
    } else if (d.kind === 'resize') {
      this.resizeTo(d, dx / this.view.z, dy / this.view.z);
    }
    this.schedule();
  }

  resizeTo(d, dx, dy) {
    const r = d.rect;
    const left = d.handle.includes('w');
    const top = d.handle.includes('n');
    let nw = Math.max(24, r.w + (left ? -dx : dx));
    let nh = Math.max(24, r.h + (top ? -dy : dy));
    if (d.w.widget_type === 'Image' && r.w > 0 && r.h > 0) {
      const k = Math.max(nw / r.w, nh / r.h);
      nw = r.w * k;
      nh = r.h * k;
    }
    const nx = left ? r.x + r.w - nw : r.x;
    const ny = top ? r.y + r.h - nh : r.y;
    const s = r.s || 1;
    const ps = this.parentScale(d.w);
    const pa = this.abs(d.w);
    // Back from world to the parent's coordinates.
    const loc0 = d.w.location || { x: 0, y: 0 };
    const ox = pa.x - num(loc0.x) * ps;
    const oy = pa.y - num(loc0.y) * ps;
    d.size = { width: nw / s, height: nh / s };
    d.loc = { x: (nx - ox) / ps, y: (ny - oy) / ps };
  }

  async onPointerUp(e) {
    this.pointers.delete(e.pointerId);
    if (this.viewport.hasPointerCapture(e.pointerId)) this.viewport.releasePointerCapture(e.pointerId);
    if (this.pinch) {
      if (this.pointers.size < 2) this.pinch = null;
      return;
    }
    const d = this.drag;
    this.drag = null;
    this.viewport.classList.remove('panning');
    if (!d) return;
    if (d.kind === 'pan' && !d.moved && d.clear && this.selection.size) {
      this.selection.clear();
      this.sendPresence(this.lastCursor);
    }
    if (d.kind === 'move' && d.moved && d.loc) {
      const w = this.widgets.get(d.id);
      if (w) {
        const loc = { x: Math.round(d.loc.x * 100) / 100, y: Math.round(d.loc.y * 100) / 100 };
        this.widgets.set(w.id, { ...w, location: loc });
        this.patch(w, { location: loc });
      }
    }
    if (d.kind === 'resize' && d.moved && d.size) {
      const w = this.widgets.get(d.id);
      if (w) {
        const body = {
          location: { x: Math.round(d.loc.x * 100) / 100, y: Math.round(d.loc.y * 100) / 100 },
          size: { width: Math.round(d.size.width * 100) / 100, height: Math.round(d.size.height * 100) / 100 },
        };
        this.widgets.set(w.id, { ...w, ...body });
        this.patch(w, body);
      }
    }
    this.schedule();
  }

  /**
   * patch saves fields of a widget. The answer is not merged: the change
   * comes back on the websocket in seq order, after any concurrent edit, so
   * every viewer converges on the same state. On failure the widget is
   * reloaded from the server.
   */
  async patch(w, body) {
    try {
      return await api.patchWidget(this.id, w, body);
    } catch (e) {
      try {
        const cur = await api.widget(this.id, w.id);
        if (cur && cur.id) this.widgets.set(cur.id, cur);
      } catch { /* deleted meanwhile: its event removes it */ }
      this.schedule();
      toast(e.status === 403 ? 'You can only view this canvas.' : 'Could not save: ' + e.message, 'error');
      return null;
    }
  }

  onWheel(e) {
    if (e.target.closest('.modal, .floatbar')) return;
    e.preventDefault();
    const r = this.viewport.getBoundingClientRect();
    const sx = e.clientX - r.left;
    const sy = e.clientY - r.top;
    if (e.shiftKey && !e.ctrlKey) {
      this.view.x -= e.deltaY || e.deltaX;
      this.schedule();
      return;
    }
    let dy = e.deltaY;
    if (e.deltaMode === 1) dy *= 16;
    const k = e.ctrlKey ? 0.01 : 0.0015;
    this.zoomAt(sx, sy, this.view.z * Math.exp(-dy * k));
  }

  onDblClick(e) {
    if (!this.canEdit || e.target.closest('.floatbar, .zoombar, .uploads, button')) return;
    const wel = e.target.closest('.widget');
    if (wel) {
      const w = this.widgets.get(wel.dataset.id);
      if (w && w.widget_type === 'Note') this.editNote(w.id);
      return;
    }
    const p = this.toWorld(e.clientX, e.clientY);
    this.addNote({ x: p.x - 150, y: p.y - 110 });
  }

  onKeyDown(e) {
    if (document.querySelector('.modal-back')) return;
    const typing = e.target.closest && e.target.closest('input, textarea, select, [contenteditable="true"], [contenteditable="plaintext-only"]');
    if (typing) {
      if (this.editing && e.key === 'Escape') { e.preventDefault(); this.commitEdit(); }
      if (this.editing && e.key === 'Enter' && (e.metaKey || e.ctrlKey)) { e.preventDefault(); this.commitEdit(); }
      return;
    }
    if (e.code === 'Space' && !this.spaceDown) {
      this.spaceDown = true;
      this.viewport.classList.add('space');
      e.preventDefault();
      return;
    }
    if ((e.key === 'Delete' || e.key === 'Backspace') && this.selection.size && this.canEdit) {
      e.preventDefault();
      this.deleteSelection();
    } else if (e.key === 'Escape') {
      this.selection.clear();
      this.sendPresence(this.lastCursor);
      this.schedule();
    } else if ((e.key === 'n' || e.key === 'N') && this.canEdit && !e.metaKey && !e.ctrlKey) {
      this.addNoteAtCenter();
    } else if (e.key === '0' && (e.metaKey || e.ctrlKey)) {
      e.preventDefault();
      this.fit();
    }
  }

  async deleteSelection() {
    const ws = [...this.selection].map((id) => this.widgets.get(id)).filter(Boolean);
    if (!ws.length) return;
    const what = ws.length === 1 ? `this ${ws[0].widget_type.toLowerCase()}` : `${ws.length} items`;
    if (!await confirmDialog(`Delete ${what}?`, 'Everyone on this canvas will see it disappear.')) return;
    for (const w of ws) {
      try {
        await api.deleteWidget(this.id, w);
        this.widgets.delete(w.id);
        this.selection.delete(w.id);
      } catch (e) {
        toast('Could not delete: ' + e.message, 'error');
      }
    }
    this.schedule();
  }

  async rename() {
    if (!this.canEdit || !this.canvas) return;
    const name = await promptDialog('Rename canvas', 'Name', this.canvas.name);
    if (!name) return;
    try { this.applyCanvas(await api.renameCanvas(this.id, name)); } catch (e) { toast(e.message, 'error'); }
  }

  // --------------------------------------------------------------- notes

  addNoteAtCenter() {
    const r = this.viewport.getBoundingClientRect();
    const p = this.toWorld(r.left + r.width / 2, r.top + r.height / 2);
    const jitter = (this.widgets.size % 5) * 24;
    this.addNote({ x: p.x - 150 + jitter, y: p.y - 110 + jitter });
  }

  async addNote(location) {
    const color = NOTE_COLORS[this.widgets.size % 5][1];
    try {
      const w = await api.createNote(this.id, {
        text: '', background_color: color,
        location: { x: Math.round(location.x), y: Math.round(location.y) },
        size: { width: 300, height: 220 },
      });
      if (!this.widgets.has(w.id)) this.widgets.set(w.id, w); // the event may have come first
      this.selection = new Set([w.id]);
      this.render();
      this.editNote(w.id);
    } catch (e) {
      toast('Could not add a note: ' + e.message, 'error');
    }
  }

  editNote(id) {
    const w = this.widgets.get(id);
    const el = this.els.get(id);
    if (!w || !el || !this.canEdit) return;
    if (this.editing && this.editing !== id) this.commitEdit();
    this.editing = id;
    this.selection = new Set([id]);
    let text = el.querySelector('.note-text');
    if (!text) { text = h('div.note-text'); el.append(text); }
    text.textContent = w.text || '';
    el.classList.add('editing');
    text.setAttribute('contenteditable', 'plaintext-only');
    if (text.contentEditable !== 'plaintext-only') text.setAttribute('contenteditable', 'true');
    text.spellcheck = true;
    text.addEventListener('blur', () => { if (this.editing === id) this.commitEdit(); }, { once: true });
    text.focus();
    const range = document.createRange();
    range.selectNodeContents(text);
    range.collapse(false);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    this.schedule();
  }

  async commitEdit() {
    const id = this.editing;
    if (!id) return;
    this.editing = null;
    const el = this.els.get(id);
    const w = this.widgets.get(id);
    if (!el || !w) return;
    const text = el.querySelector('.note-text');
    const value = text ? text.innerText.replace(/\n$/, '') : '';
    if (text) text.removeAttribute('contenteditable');
    el.classList.remove('editing');
    this.sigs.delete(id);
    this.sigObj.delete(id);
    if (value !== (w.text || '')) {
      this.widgets.set(id, { ...w, text: value });
      await this.patch(w, { text: value });
    }
    this.schedule();
  }

  // ------------------------------------------------------------- uploads

  async uploadFiles(files, at) {
    const images = files.filter((f) => /^image\//.test(f.type) || /\.(png|jpe?g|gif|webp|svg)$/i.test(f.name));
    if (!images.length) { toast('Only images can be added here.', 'error'); return; }
    const r = this.viewport.getBoundingClientRect();
    let origin = at || this.toWorld(r.left + r.width / 2, r.top + r.height / 2);
    for (const file of images) {
      const dims = await naturalSize(file);
      const maxEdge = Math.min(640, 640 / Math.max(this.view.z, 0.25));
      const k = dims ? Math.min(1, maxEdge / Math.max(dims.w, dims.h)) : 1;
      const size = dims ? { width: Math.round(dims.w * k), height: Math.round(dims.h * k) } : { width: 480, height: 360 };
      const meta = { title: file.name.replace(/\.[^.]+$/, ''), location: { x: Math.round(origin.x - size.width / 2), y: Math.round(origin.y - size.height / 2) }, size };
      origin = { x: origin.x + 40, y: origin.y + 40 };
      const bar = h('div.bar-fill');
      const pct = h('span.pct', '0%');
      const item = h('div.upload-item', h('div.upload-name', icon('image'), h('span', file.name), pct), h('div.bar', bar));
      this.uploads.append(item);
      try {
        const w = await upload(this.id, file, meta, (f) => {
          bar.style.width = (f * 100).toFixed(0) + '%';
          pct.textContent = (f * 100).toFixed(0) + '%';
        });
        bar.style.width = '100%';
        pct.textContent = 'Done';
        item.classList.add('done');
        if (w && w.id && !this.widgets.has(w.id)) { this.widgets.set(w.id, w); this.schedule(); }
      } catch (e) {
        item.classList.add('failed');
        pct.textContent = 'Failed';
        toast(`${file.name}: ${e.message}`, 'error', 6000);
      }
      setTimeout(() => item.remove(), 2500);
    }
  }
}

async function naturalSize(file) {
  const url = URL.createObjectURL(file);
  try {
    return await new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(img.naturalWidth && img.naturalHeight ? { w: img.naturalWidth, h: img.naturalHeight } : null);
      img.onerror = () => resolve(null);
      img.src = url;
    });
  } finally {
    URL.revokeObjectURL(url);
  }
}
