// canvas.js: the canvas view. Widgets are DOM elements in a "world" layer
// that is panned and zoomed with one CSS transform; selection boxes, remote
// cursors and the floating toolbar live in a screen-space overlay so they keep
// their size at any zoom. Every edit goes through REST; the websocket brings
// everyone's changes (ours included) back in seq order.

import { api, upload, ApiError } from './api.js';
import { h, svg, icon, toast, modal, confirmDialog, promptDialog, initials, safeColor } from './ui.js';
import { Live } from './live.js';
import { openRecrop, openUncrop, openDigitize } from './tools.js';
import { History, norm } from './history.js';
import { Minimap } from './minimap.js';
import { findFree, fetchBlob, writeClip, readClip, helpDialog, tableGrid, toCSV, toTSV, download, copyText } from './board.js';
import { MEDIA_TYPES, mediaSig, drawMedia, MediaCache, uploadRoute, UPLOAD_ACCEPT } from './media.js';

export const NOTE_COLORS = [
  ['Lemon', '#fff1a8'], ['Peach', '#ffd8b5'], ['Rose', '#ffd3de'], ['Lilac', '#e4dcff'],
  ['Sky', '#cfe8ff'], ['Mint', '#c9f2dc'], ['Paper', '#ffffff'],
];

const MIN_Z = 0.05;
const NUMBER = /^[-+−]?[$€£¥(]?[-+−]?[\d.,\s]*\d[\d.,]*\s?[%KMBkmb]?\)?$/;
const MAX_Z = 6;
const DRAG_THRESHOLD = 3;
// A remote cursor not updated for this long is dropped (leaves are not
// announced on canvases with over 100 viewers).
const CURSOR_TTL_MS = 10000;
// A viewer's colour when the server's is not a hex colour.
const VIEWER_COLOR = '#64748b';
// CULL_MARGIN is how far outside the viewport (in screen px) widgets stay drawn.
const CULL_MARGIN = 200;
// Fields a widget of each type is re-created with (undo of a delete, paste).
const CREATE_FIELDS = {
  Pdf: ['location', 'size', 'depth', 'scale', 'pinned', 'title', 'index'],
  Video: ['location', 'size', 'depth', 'scale', 'pinned', 'title'],
  Note: ['location', 'size', 'depth', 'scale', 'pinned', 'text', 'title', 'background_color', 'text_color'],
  Anchor: ['location', 'size', 'depth', 'scale', 'pinned', 'anchor_name'],
  Image: ['location', 'size', 'depth', 'scale', 'pinned', 'title'],
  Connector: ['src', 'dst', 'line_color', 'line_width', 'type'],
};
const CREATE_PATH = { Note: 'notes', Anchor: 'anchors', Connector: 'connectors' };

const EMPTY = new Set();
// Widget types made by uploading their file, and their upload route.
const FILE_ROUTE = { Image: 'images', Pdf: 'pdfs', Video: 'videos' };

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
    this.cursors = new Map();   // viewer id -> {viewer, cursor, selection, expiry}
    this.presenceOnly = new Set(); // viewer ids learnt from presence, not from HELLO or a join
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
    this.measure = new Set();    // notes to check for hidden text
    this.rects = new Map();      // id -> world rectangle, as last rendered
    this.history = new History(this);
    this.tool = null;            // null (select) | 'connector'
    this.outbox = [];            // edits made offline, sent in order when back
    this.stale = false;          // a failed change could not be rolled back: reload when back
    // Safe concurrent edits: each widget's version (the seq of its last
    // event, the server's ETag) is sent back as If-Match; a 412 means
    // someone else changed it first (see onConflict).
    this.versions = new Map();   // widget id -> version
    this.inflight = new Map();   // widget id -> PATCHes under way
    // Optimistic fields of PATCHes whose event has not come back yet: an
    // older event of the widget (someone's, or our previous change) must not
    // show the old values meanwhile (say, unlock a note just locked).
    this.pendingFields = new Map(); // widget id -> [{fields, until: seq of our change's event}]
    this.eventSeq = new Map();      // widget id -> seq of the last event of it applied
    this.eventWidget = new Map();   // widget id -> the widget as its last event had it
    this.drafts = new Map();     // note id -> text another viewer is typing (never stored)
    this.lastEditor = new Map(); // note id -> name of the last viewer seen editing it
    this.editState = null;       // {id, baseText, version} of the note being edited here
    this.editingPresence = null; // {editing, draft} sent with presence while editing
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
    this.fileInput = h('input#file-input', { type: 'file', accept: UPLOAD_ACCEPT, multiple: true, hidden: true, onchange: () => { this.uploadFiles([...this.fileInput.files]); this.fileInput.value = ''; } });
    this.tools = h('div.tools',
      h('button.tool#tool-note', { type: 'button', title: 'Add a note (N)', onclick: () => this.addNoteAtCenter() }, icon('note'), h('span', 'Note')),
      h('button.tool#tool-image', { type: 'button', title: 'Upload images, PDFs or videos', onclick: () => this.fileInput.click() }, icon('image'), h('span', 'Image')),
      this.connectBtn = h('button.tool#tool-connector', { type: 'button', title: 'Connect two items: drag from one to the other (C)', onclick: () => this.setTool(this.tool === 'connector' ? null : 'connector') }, icon('link'), h('span', 'Connector')),
      h('button.tool#tool-anchor', { type: 'button', title: 'Add an anchor: a named frame to jump to (F)', onclick: () => this.addAnchor() }, icon('frame'), h('span', 'Anchor')),
      this.fileInput);
    this.anchorsBtn = h('button.tool#anchors-btn', { type: 'button', title: 'Jump to an anchor', onclick: (e) => { e.stopPropagation(); this.toggleAnchorsMenu(); } }, icon('pin'), h('span', 'Anchors'));
    this.anchorsMenu = h('div.anchors-menu#anchors-menu', { hidden: true });
    this.shareBtn = h('button.btn.primary.small#share-btn', { type: 'button', hidden: true, onclick: () => this.canvas && c.shareDialog(this.canvas) }, icon('share'), 'Share');
    const topbar = h('header.topbar.canvas-bar',
      h('a.icon-btn.back', { href: '/', title: 'All canvases', 'aria-label': 'All canvases', onclick: (e) => { e.preventDefault(); c.navigate('/'); } }, icon('back')),
      h('span.logo.small', { 'aria-hidden': 'true' }),
      this.titleEl, this.accessEl, this.statusEl,
      h('div.spacer'),
      h('div.anchors-wrap', this.anchorsBtn, this.anchorsMenu),
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
      h('p.muted', 'Double-click anywhere to add a note, or drop images, PDFs or videos here. Press ? for shortcuts.'));
    this.dropHint = h('div.drop-hint', h('div', icon('image'), 'Drop images, PDFs or videos to add them'));
    this.banner = h('div.banner#conn-banner', { hidden: true }, h('span.spinner'), h('span.banner-text', 'Reconnecting…'));
    this.zoomLabel = h('button.zoom-label#zoom-label', { type: 'button', title: 'Reset zoom to 100%', onclick: () => this.zoomTo(1) }, '100%');
    const zoomBar = h('div.zoombar',
      h('button.icon-btn', { type: 'button', title: 'Zoom out', 'aria-label': 'Zoom out', onclick: () => this.zoomBy(1 / 1.25) }, icon('minus')),
      this.zoomLabel,
      h('button.icon-btn', { type: 'button', title: 'Zoom in', 'aria-label': 'Zoom in', onclick: () => this.zoomBy(1.25) }, icon('plus')),
      h('button.icon-btn', { type: 'button', title: 'Fit to content', 'aria-label': 'Fit to content', onclick: () => this.fit() }, icon('fit')),
      this.minimapBtn = h('button.icon-btn#minimap-btn', { type: 'button', title: 'Minimap (M)', 'aria-label': 'Minimap', onclick: () => this.toggleMinimap() }, icon('map')),
      h('button.icon-btn#help-btn', { type: 'button', title: 'Keyboard shortcuts (?)', 'aria-label': 'Keyboard shortcuts', onclick: () => helpDialog() }, icon('help')));
    this.marquee = h('div.marquee#marquee', { hidden: true });
    this.uploads = h('div.uploads');
    this.minimap = new Minimap(this);
    this.minimap.hidden = readPref('minimap') === 'off';
    this.minimapBtn.classList.toggle('on', !this.minimap.hidden);
    this.followBar = h('div.follow-bar#follow-bar', { hidden: true }, h('span.follow-text'),
      h('button.btn.small#follow-stop', { type: 'button', onclick: () => this.setFollow(null) }, 'Stop'));
    this.viewport = h('div.viewport#viewport', { tabindex: '0' },
      this.world, this.overlay, this.marquee, this.cursorLayer, this.floatBar, this.emptyHint, this.dropHint, zoomBar, this.minimap.node, this.followBar, this.uploads, this.banner);
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
    this.onOnline = () => this.flush();
    window.addEventListener('online', this.onOnline);
    this.onDocClick = (e) => { if (!this.anchorsMenu.hidden && !e.target.closest('.anchors-wrap')) this.anchorsMenu.hidden = true; };
    document.addEventListener('click', this.onDocClick);
    if (window.__canvasd) Object.assign(window.__canvasd, {
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
      onJoin: (v) => { this.viewers.set(v.id, v); this.presenceOnly.delete(v.id); this.renderViewers(); },
      onLeave: (v) => {
        if (this.follow === v.id) this.setFollow(null);
        const c = this.cursors.get(v.id);
        if (c && c.editing) this.dropDraft(c.editing);
        this.viewers.delete(v.id); this.cursors.delete(v.id); this.renderViewers(); this.schedule();
      },
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
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('click', this.onDocClick);
    clearTimeout(this.flushTimer);
    if (this.live) this.live.close();
    if (this.mediaCache) this.mediaCache.dispose();
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
    const n = this.outbox.length;
    this.statusEl.dataset.pending = String(n);
    this.statusEl.querySelector('.conn-text').textContent = n ? `${s === 'live' ? 'Live' : 'Offline'} · ${n} unsaved` : text;
    this.banner.hidden = s === 'live' || s === 'connecting';
    this.banner.querySelector('.banner-text').textContent = detail || (s === 'closed' ? 'Offline' : 'Reconnecting… your view will catch up.');
    this.banner.classList.toggle('error', s === 'closed');
  }

  // ------------------------------------------------------------ live data

  onHello(msg, first) {
    this.me = msg.you || null;
    if (msg.access && msg.access !== this.access) this.applyCanvas({ access: msg.access });
    this.viewers.clear();
    this.presenceOnly.clear();
    for (const v of msg.viewers || []) this.viewers.set(v.id, v);
    if (this.me) this.viewers.set(this.me.id, this.me);
    for (const id of [...this.cursors.keys()]) if (!this.viewers.has(id)) this.cursors.delete(id);
    this.renderViewers();
    if (first) this.load();
    else this.reconcile();
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
      if (e.status === 0) { this.stale = true; this.scheduleFlush(); }
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
      this.versions.delete(w.id);
      this.pendingFields.delete(w.id);
      this.eventWidget.delete(w.id);
      if (this.editing === w.id) this.editing = null;
    } else {
      this.widgets.set(w.id, this.overlayPending(w, env.seq));
      this.eventWidget.set(w.id, w);
      if (typeof env.seq === 'number') {
        this.noteVersion(w.id, env.seq);
        this.eventSeq.set(w.id, Math.max(this.eventSeq.get(w.id) || 0, env.seq));
      }
      if (this.editing === w.id) this.remoteWhileEditing(w, env.seq);
    }
    this.schedule();
  }

  /**
   * overlayPending lays the fields of our PATCHes still under way over an
   * event's widget; a mark goes once the event of its change (seq >= until) arrives.
   */
  overlayPending(w, seq) {
    const marks = this.pendingFields.get(w.id);
    if (!marks) return w;
    const live = typeof seq === 'number' ? marks.filter((m) => !(m.until <= seq)) : marks;
    if (live.length) this.pendingFields.set(w.id, live); else this.pendingFields.delete(w.id);
    if (!live.length) return w;
    const out = { ...w };
    for (const m of live) Object.assign(out, m.fields);
    return out;
  }

  dropPending(id, mark) {
    const marks = (this.pendingFields.get(id) || []).filter((m) => m !== mark);
    if (marks.length) this.pendingFields.set(id, marks); else this.pendingFields.delete(id);
  }

  /** noteVersion records a widget's version; versions only grow. */
  noteVersion(id, v) {
    if (typeof v === 'number' && v > (this.versions.get(id) || 0)) this.versions.set(id, v);
  }

  /** versionFor is the If-Match for a change of id: its version, unless a change of it is still under way. */
  versionFor(id) {
    return this.inflight.get(id) ? null : (this.versions.get(id) ?? null);
  }

  /** editorName names who was last seen editing a note. */
  editorName(id) { return this.lastEditor.get(id) || 'Someone'; }

  /**
   * remoteWhileEditing runs when another save of the note being edited
   * here arrives. Other fields merge silently; new text replaces the
   * editor's when nothing was typed yet, else the note says so and saving
   * asks which text to keep (the 412 path).
   */
  remoteWhileEditing(w, seq) {
    const st = this.editState;
    if (!st || st.id !== w.id) return;
    const theirs = w.text || '';
    if (theirs === st.baseText) { if (typeof seq === 'number') st.version = Math.max(st.version || 0, seq); return; }
    const el = this.els.get(w.id);
    const text = el && el.querySelector('.note-text');
    if (!text) return;
    const mine = text.innerText.replace(/\n$/, '');
    if (mine === st.baseText) {
      text.textContent = theirs;
      st.baseText = theirs;
      if (typeof seq === 'number') st.version = Math.max(st.version || 0, seq);
      this.growNote(el);
      return;
    }
    let hint = el.querySelector('.note-hint');
    if (!hint) { hint = h('div.note-hint', { contenteditable: 'false' }); el.append(hint); }
    hint.textContent = `${this.editorName(w.id)} changed this note while you were editing; saving will ask which to keep.`;
    hint.dataset.named = String(this.lastEditor.has(w.id));
  }

  /**
   * setEditingPresence tells the other viewers which note this one is
   * typing in. Once done, every later presence says editing "" too, so a
   * message the server's rate limit dropped never leaves a stale "is editing".
   */
  setEditingPresence(p) {
    this.editingPresence = p;
    this.sendPresence(this.lastCursor);
  }

  onPresence(msg) {
    const v = msg.viewer;
    if (!v || (this.me && v.id === this.me.id)) return;
    if (!this.viewers.has(v.id)) { this.viewers.set(v.id, v); this.presenceOnly.add(v.id); this.renderViewers(); }
    const c = this.cursors.get(v.id) || { viewer: v };
    c.viewer = v;
    if ('cursor' in msg) c.cursor = msg.cursor || null;
    if (msg.selection) c.selection = msg.selection;
    if (msg.viewport && typeof msg.viewport === 'object') c.viewport = msg.viewport;
    if ('editing' in msg) {
      const was = c.editing || '';
      c.editing = typeof msg.editing === 'string' ? msg.editing : '';
      if (was && (was !== c.editing || typeof msg.draft !== 'string')) this.dropDraft(was);
      if (c.editing) {
        this.lastEditor.set(c.editing, v.name);
        // Their presence may come after their save: a hint that said "Someone" gets the name.
        const hint = this.editing === c.editing && this.els.get(c.editing)?.querySelector('.note-hint[data-named="false"]');
        if (hint) {
          hint.textContent = `${v.name} changed this note while you were editing; saving will ask which to keep.`;
          hint.dataset.named = 'true';
        }
        if (typeof msg.draft === 'string' && this.drafts.get(c.editing) !== msg.draft) {
          this.drafts.set(c.editing, msg.draft);
          this.sigObj.delete(c.editing);
        }
      }
    }
    this.cursors.set(v.id, c);
    // Above 100 viewers the server announces no joins or leaves: a cursor
    // (and a viewer known only from presence) goes after CURSOR_TTL_MS
    // without a presence update.
    clearTimeout(c.expiry);
    c.expiry = setTimeout(() => this.expireCursor(v.id, c), CURSOR_TTL_MS);
    if (this.follow === v.id) this.followTo(c);
    this.schedule();
  }

  expireCursor(id, c) {
    if (this.unmounted || this.cursors.get(id) !== c) return;
    this.cursors.delete(id);
    if (this.presenceOnly.delete(id)) { this.viewers.delete(id); this.renderViewers(); }
    this.schedule();
  }

  sendPresence(cursor) {
    this.lastCursor = cursor;
    if (this.live) this.live.presence(cursor, [...this.selection], { ...(this.editingPresence || {}), viewport: this.visibleWorld() });
  }

  /** dropDraft stops showing another viewer's unsaved text in a note. */
  dropDraft(id) {
    if (this.drafts.delete(id)) { this.sigObj.delete(id); this.sigs.delete(id); }
  }

  renderViewers() {
    const vs = [...this.viewers.values()];
    vs.sort((a, b) => (this.me && a.id === this.me.id ? -1 : this.me && b.id === this.me.id ? 1 : a.name.localeCompare(b.name)));
    const shown = vs.slice(0, 5);
    this.viewersEl.replaceChildren(...[
      ...shown.map((v) => {
        const me = this.me && v.id === this.me.id;
        return h('span.avatar.viewer' + (this.follow === v.id ? '.following' : ''), {
          title: v.name + (me ? ' (you)' : this.follow === v.id ? ': following (click to stop)' : ': click to follow their view'),
          style: { background: safeColor(v.color, VIEWER_COLOR) }, dataset: { viewer: v.id, name: v.name },
          role: me ? null : 'button', tabindex: me ? null : '0',
          onclick: me ? null : () => this.setFollow(this.follow === v.id ? null : v.id),
          onkeydown: me ? null : (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); e.stopPropagation(); this.setFollow(this.follow === v.id ? null : v.id); } },
        }, initials(v.name));
      }),
      vs.length > 5 ? h('span.avatar.more', `+${vs.length - 5}`) : null,
      h('span.viewer-count', vs.length === 1 ? 'Only you' : `${vs.length} here`)].filter(Boolean));
  }

  // -------------------------------------------------------- coordinates

  root() { return this.widgets.get(this.rootId) || [...this.widgets.values()].find((w) => w.widget_type === 'SharedCanvas'); }

  /** abs returns a widget's world origin and cumulative scale. */
  abs(w, seen = 0) {
    const d = this.drag;
    const loc = (d && d.locs && d.locs.get(w.id)) || (d && d.id === w.id && d.loc) || w.location || { x: 0, y: 0 };
    const s = num(w.scale, 1);
    const p = w.parent_id && this.widgets.get(w.parent_id);
    if (!p || p.widget_type === 'SharedCanvas' || seen > 32) return { x: num(loc.x), y: num(loc.y), s };
    const pa = this.abs(p, seen + 1);
    return { x: pa.x + num(loc.x) * pa.s, y: pa.y + num(loc.y) * pa.s, s: pa.s * s };
  }

  /** rect returns a widget's world rectangle. */
  rect(w) {
    if (w.widget_type === 'Connector') {
      const e = this.connEnds(w);
      if (!e) return { x: 0, y: 0, w: 0, h: 0, s: 1 };
      return { x: Math.min(e.a.x, e.b.x), y: Math.min(e.a.y, e.b.y), w: Math.abs(e.a.x - e.b.x), h: Math.abs(e.a.y - e.b.y), s: 1 };
    }
    const a = this.abs(w);
    const size = this.sizeOf(w);
    return { x: a.x, y: a.y, w: num(size.width) * a.s, h: num(size.height) * a.s, s: a.s };
  }

  /** sizeOf is a widget's size, as a resize under way shows it. */
  sizeOf(w) {
    const d = this.drag;
    if (d && d.sizes && d.sizes.has(w.id)) return d.sizes.get(w.id);
    if (d && d.id === w.id && d.size) return d.size;
    return w.size || { width: 0, height: 0 };
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
    this.scheduleView();
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

  /** schedule redraws everything on the next frame. */
  schedule() {
    this.fullDirty = true;
    this.requestFrame();
  }

  /** scheduleView redraws what a pan or zoom changes: the world's transform, culling and the overlay. */
  scheduleView() { this.requestFrame(); }

  requestFrame() {
    if (this.rafPending) return;
    this.rafPending = true;
    requestAnimationFrame(() => {
      this.rafPending = false;
      if (this.fullDirty) this.render(); else this.renderView();
    });
  }

  /** renderView applies the view: one transform for the world, then culling, overlay and cursors. */
  renderView() {
    const v = this.view;
    this.world.style.transform = `translate(${v.x}px, ${v.y}px) scale(${v.z})`;
    const grid = 24 * v.z;
    this.viewport.style.backgroundSize = `${grid}px ${grid}px`;
    this.viewport.style.backgroundPosition = `${v.x}px ${v.y}px`;
    this.viewport.classList.toggle('zoomed-out', v.z < 0.35);
    // Far out, text is a few pixels high: draw notes as coloured cards only.
    this.viewport.classList.toggle('far-out', v.z < 0.15);
    const zl = Math.round(v.z * 100) + '%';
    if (this.zoomLabel.textContent !== zl) this.zoomLabel.textContent = zl;
    this.cull();
    this.checkOverflow();
    this.renderOverlay();
    this.renderCursors();
    this.minimap.draw();
    // Others may follow this view: a changed view goes out with presence.
    const key = `${v.x}|${v.y}|${v.z}`;
    if (key !== this.sentView && this.live) { this.sentView = key; this.sendPresence(this.lastCursor); }
  }

  /** visibleWorld is the world rectangle this viewport shows. */
  visibleWorld() {
    const v = this.view;
    const r1 = (n) => Math.round(n * 10) / 10;
    const s = this.vpSize || { w: this.viewport.clientWidth || 1, h: this.viewport.clientHeight || 1 };
    return { x: r1(-v.x / v.z), y: r1(-v.y / v.z), w: r1(s.w / v.z), h: r1(s.h / v.z) };
  }

  /** centerOn moves the view so world point (x, y) is in the middle (the minimap). */
  centerOn(x, y) {
    this.setFollow(null);
    const v = this.view;
    v.x = (this.viewport.clientWidth || 1) / 2 - x * v.z;
    v.y = (this.viewport.clientHeight || 1) / 2 - y * v.z;
    this.scheduleView();
  }

  toggleMinimap() {
    this.minimap.hidden = !this.minimap.hidden;
    writePref('minimap', this.minimap.hidden ? 'off' : 'on');
    this.minimapBtn.classList.toggle('on', !this.minimap.hidden);
    this.minimapBtn.setAttribute('aria-pressed', String(!this.minimap.hidden));
    this.scheduleView();
  }

  /**
   * setFollow follows a collaborator (viewer id) or stops (null): this view
   * moves with theirs. Presence carries their viewport when the server
   * relays it, and always their cursor: without a viewport, the view keeps
   * their cursor in its middle half.
   */
  setFollow(id) {
    if (id && (!this.viewers.has(id) || (this.me && id === this.me.id))) id = null;
    if (this.follow === id || (!id && !this.follow)) return;
    this.follow = id;
    const v = id && this.viewers.get(id);
    this.followBar.hidden = !v;
    if (v) {
      this.followBar.style.setProperty('--c', safeColor(v.color, VIEWER_COLOR));
      this.followBar.querySelector('.follow-text').textContent = `Following ${v.name}`;
      const c = this.cursors.get(id);
      if (c) this.followTo(c);
    }
    this.renderViewers();
  }

  /** followTo moves the view to the followed viewer's viewport, or to their cursor. */
  followTo(c) {
    const r = this.viewport.getBoundingClientRect();
    const vp = c.viewport;
    if (vp && [vp.x, vp.y, vp.w, vp.h].every((n) => typeof n === 'number' && isFinite(n)) && vp.w > 0 && vp.h > 0) {
      const z = clamp(Math.min(r.width / vp.w, r.height / vp.h), MIN_Z, MAX_Z);
      this.view = { z, x: r.width / 2 - (vp.x + vp.w / 2) * z, y: r.height / 2 - (vp.y + vp.h / 2) * z };
      this.scheduleView();
      return;
    }
    const p = c.cursor;
    if (!p || typeof p.x !== 'number' || typeof p.y !== 'number') return;
    const s = this.toScreen(p.x, p.y);
    if (s.x < r.width / 4 || s.x > r.width * 3 / 4 || s.y < r.height / 4 || s.y > r.height * 3 / 4) {
      this.view.x = r.width / 2 - p.x * this.view.z;
      this.view.y = r.height / 2 - p.y * this.view.z;
      this.scheduleView();
    }
  }

  /**
   * cull hides the widgets outside the viewport (plus a margin); their
   * nodes stay, so nothing is rebuilt when they come back into view.
   */
  cull() {
    const v = this.view;
    const vw = this.viewport.clientWidth || 1;
    const vh = this.viewport.clientHeight || 1;
    // Read here, before this frame's writes: later readers (the minimap,
    // presence) use it and force no layout.
    this.vpSize = { w: vw, h: vh };
    const x0 = (-CULL_MARGIN - v.x) / v.z;
    const y0 = (-CULL_MARGIN - v.y) / v.z;
    const x1 = (vw + CULL_MARGIN - v.x) / v.z;
    const y1 = (vh + CULL_MARGIN - v.y) / v.z;
    let shown = 0;
    for (const [id, el] of this.els) {
      const r = this.rects.get(id);
      // Anchors draw their label above the box; editing and dragged widgets always stay.
      const out = !!r && this.editing !== id && (r.x > x1 || r.x + r.w < x0 || r.y - 60 > y1 || r.y + r.h < y0);
      if (el.culled !== out) {
        el.culled = out;
        el.classList.toggle('culled', out);
        if (!out && el.dataset.type === 'Note') this.measure.add(id);
      }
      if (!out) shown++;
    }
    if (this.shown !== shown) { this.shown = shown; this.viewport.dataset.shown = String(shown); }
  }

  /** checkOverflow marks the (visible) notes whose text does not fit, so nothing is clipped unseen. */
  checkOverflow() {
    for (const id of this.measure) {
      const el = this.els.get(id);
      if (!el) { this.measure.delete(id); continue; }
      if (el.culled || this.editing === id) continue;
      this.measure.delete(id);
      el.classList.toggle('overflowing', el.scrollHeight > el.clientHeight + 2);
    }
  }

  render() {
    this.fullDirty = false;
    const root = this.root();
    if (root) this.rootId = root.id;

    // Widgets, painted in depth order (parents before children).
    const items = [];
    for (const w of this.widgets.values()) {
      // Annotations (ink strokes) arrive over the websocket like widgets;
      // they are not boxes of their own.
      if (w.widget_type === 'SharedCanvas' || w.widget_type === 'Connector' || w.widget_type === 'Annotation') continue;
      items.push({ w, key: this.depthKey(w) });
    }
    items.sort((a, b) => {
      for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
      return a.key.length - b.key.length;
    });
    const live = new Set();
    const dragIds = this.dragIds();
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
      this.rects.set(w.id, r);
      const size = this.sizeOf(w);
      // Only what changed is written: a style write costs a style recalc.
      const geo = `${num(size.width)}|${num(size.height)}|${r.x}|${r.y}|${r.s}|${i + 1}`;
      if (el.geo !== geo) {
        el.geo = geo;
        if (w.widget_type === 'Note') this.measure.add(w.id);
        el.style.width = num(size.width) + 'px';
        el.style.height = num(size.height) + 'px';
        el.style.transform = `translate(${r.x}px, ${r.y}px) scale(${r.s})`;
        el.style.zIndex = String(i + 1);
        el.dataset.x = String(Math.round(r.x * 100) / 100);
        el.dataset.y = String(Math.round(r.y * 100) / 100);
        el.dataset.w = String(Math.round(r.w * 100) / 100);
        el.dataset.h = String(Math.round(r.h * 100) / 100);
      }
      const sel = this.selection.has(w.id);
      if (el.sel !== sel) { el.sel = sel; el.classList.toggle('selected', sel); }
      const dragging = !!(this.drag && this.drag.moved && dragIds.has(w.id));
      if (el.dragging !== dragging) { el.dragging = dragging; el.classList.toggle('dragging', dragging); }
      const locked = !!w.pinned;
      if (el.locked !== locked) { el.locked = locked; el.classList.toggle('locked', locked); }
    });
    for (const [id, el] of this.els) {
      if (!live.has(id)) { el.remove(); this.els.delete(id); this.sigs.delete(id); this.sigObj.delete(id); this.rects.delete(id); }
    }
    this.connSvg.style.zIndex = String(items.length + 2);
    this.renderConnectors();
    this.minimap.contentChanged();
    this.renderView();
    this.emptyHint.hidden = this.loading || items.length > 0;
  }

  /** dragIds names the widgets the current drag moves or resizes. */
  dragIds() {
    const d = this.drag;
    if (!d || !d.id) return EMPTY;
    return d.locs ? new Set(d.locs.keys()) : new Set([d.id]);
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
      case 'Note': sig = JSON.stringify([w.text, w.title, w.background_color, w.text_color, this.drafts.get(w.id)]); break;
      case 'Image': sig = JSON.stringify([w.hash, w.version, w.title]); break;
      case 'Anchor': sig = JSON.stringify([w.anchor_name]); break;
      case 'Table': sig = JSON.stringify([tableOf(w), w.title, w.size]); break;
      default: sig = MEDIA_TYPES.has(w.widget_type) ? mediaSig(w) : JSON.stringify([w.title, w.widget_type]);
    }
    if (this.editing === w.id) return;
    if (this.sigs.get(w.id) === sig) return;
    this.sigs.set(w.id, sig);
    switch (w.widget_type) {
      case 'Note': {
        const bg = safeColor(w.background_color, '#ffffff');
        const tc = safeColor(w.text_color, '');
        el.style.background = bg;
        el.style.setProperty('--note-bg', bg);
        const dark = luminance(bg) < 0.5;
        el.style.color = tc && !/^#?f{6,8}$/i.test(tc) && !dark ? tc : dark ? '#f8fafc' : '#1f2430';
        el.replaceChildren(...[
          w.title ? h('div.note-title', w.title) : null,
          h('div.note-text', this.drafts.get(w.id) ?? (w.text || ''))].filter(Boolean));
        el.classList.toggle('empty', !w.text && !w.title);
        this.measure.add(w.id);
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
        if (MEDIA_TYPES.has(w.widget_type)) {
          if (!this.mediaCache) this.mediaCache = new MediaCache(this.id);
          drawMedia(this, el, w);
          break;
        }
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
    // Each row is at most one slot high (line box, padding and its 1px
    // border), and the title 1.4 slots: the last row is never clipped.
    wrap.style.setProperty('--pad-y', Math.max(0, (slot - font * 1.3 - 1) / 2 - 0.25).toFixed(2) + 'px');
    wrap.style.setProperty('--row-h', (slot - 0.5).toFixed(2) + 'px');
    const titleEl = wrap.querySelector('.table-title');
    if (titleEl) { titleEl.style.height = (slot * 1.4).toFixed(2) + 'px'; titleEl.style.lineHeight = (slot * 1.4 - 1).toFixed(2) + 'px'; }
    wrap.style.setProperty('--pad-x', Math.max(2, Math.min(12, font * 0.7)).toFixed(2) + 'px');
    if (thead.childNodes.length) table.append(thead);
    table.append(tbody);
    wrap.append(table);
    return wrap;
  }

  /** connEnds returns a connector's two world end points (null when an end is missing). */
  connEnds(w) {
    if (!w.src || !w.dst) return null;
    const a = this.widgets.get(w.src.id);
    const b = this.widgets.get(w.dst.id);
    if (!a || !b || a.widget_type === 'Connector' || b.widget_type === 'Connector') return null;
    const ra = this.rect(a);
    const rb = this.rect(b);
    return {
      a: { x: ra.x + ra.w * num(w.src.rel_location?.x, 0.5), y: ra.y + ra.h * num(w.src.rel_location?.y, 0.5) },
      b: { x: rb.x + rb.w * num(w.dst.rel_location?.x, 0.5), y: rb.y + rb.h * num(w.dst.rel_location?.y, 0.5) },
    };
  }

  renderConnectors() {
    const parts = [];
    const defs = svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '8', refY: '5', markerWidth: '6', markerHeight: '6', orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: 'context-stroke' })));
    parts.push(defs);
    const hitWidth = String(Math.max(14, 14 / this.view.z));
    for (const w of this.widgets.values()) {
      if (w.widget_type !== 'Connector') continue;
      const e = this.connEnds(w);
      if (!e) continue;
      const pa = e.a;
      const pb = e.b;
      let color = safeColor(w.line_color, '#64748b').slice(0, 7);
      if (luminance(color) > 0.8) color = '#7c8598';
      let d = `M${pa.x},${pa.y} L${pb.x},${pb.y}`;
      if (w.type === 'curve') {
        const dx = (pb.x - pa.x) / 2;
        d = `M${pa.x},${pa.y} C${pa.x + dx},${pa.y} ${pb.x - dx},${pb.y} ${pb.x},${pb.y}`;
      }
      const sel = this.selection.has(w.id);
      const attrs = { d, fill: 'none', stroke: color, 'stroke-width': String(Math.max(2, num(w.line_width, 4))), 'stroke-linecap': 'round', 'data-id': w.id, class: 'conn-line' + (sel ? ' selected' : '') };
      if (w.dst.tip && w.dst.tip !== 'none') attrs['marker-end'] = 'url(#arrow)';
      if (w.src.tip && w.src.tip !== 'none') attrs['marker-start'] = 'url(#arrow)';
      parts.push(svg('path', attrs));
      // A wide transparent stroke over the line: a click on it selects the connector.
      parts.push(svg('path', { d, fill: 'none', stroke: 'transparent', 'stroke-width': hitWidth, class: 'conn-hit', 'data-id': w.id }));
    }
    const c = this.drag && this.drag.kind === 'connect' ? this.drag : null;
    if (c && c.moved) {
      const a = this.widgets.get(c.src);
      if (a) {
        const over = c.over && this.widgets.get(c.over);
        const ends = over ? this.connectorEnds(a, over) : null;
        const ra = this.rect(a);
        const pa = ends ? { x: ra.x + ra.w * ends.src.x, y: ra.y + ra.h * ends.src.y } : { x: ra.x + ra.w / 2, y: ra.y + ra.h / 2 };
        let pb = c.to;
        if (ends) { const rb = this.rect(over); pb = { x: rb.x + rb.w * ends.dst.x, y: rb.y + rb.h * ends.dst.y }; }
        parts.push(svg('path', { d: `M${pa.x},${pa.y} L${pb.x},${pb.y}`, fill: 'none', stroke: '#4f46e5', 'stroke-width': String(3 / this.view.z), 'stroke-dasharray': `${8 / this.view.z} ${6 / this.view.z}`, class: 'conn-preview', 'marker-end': 'url(#arrow)' }));
      }
    }
    this.connSvg.replaceChildren(...parts);
  }

  /** connectorEnds picks the facing sides of a and b as relative end points. */
  connectorEnds(a, b) {
    const ra = this.rect(a);
    const rb = this.rect(b);
    const dx = (rb.x + rb.w / 2) - (ra.x + ra.w / 2);
    const dy = (rb.y + rb.h / 2) - (ra.y + ra.h / 2);
    if (Math.abs(dx) * Math.max(1, ra.h + rb.h) >= Math.abs(dy) * Math.max(1, ra.w + rb.w)) {
      return dx >= 0 ? { src: { x: 1, y: 0.5 }, dst: { x: 0, y: 0.5 } } : { src: { x: 0, y: 0.5 }, dst: { x: 1, y: 0.5 } };
    }
    return dy >= 0 ? { src: { x: 0.5, y: 1 }, dst: { x: 0.5, y: 0 } } : { src: { x: 0.5, y: 0 }, dst: { x: 0.5, y: 1 } };
  }

  /** connect creates a connector from a to b (an arrow at b), one undo step. */
  connect(srcId, dstId) { return this.history.track(this.doConnect(srcId, dstId)); }

  async doConnect(srcId, dstId) {
    const a = this.widgets.get(srcId);
    const b = this.widgets.get(dstId);
    if (!a || !b || a.id === b.id) return;
    const ends = this.connectorEnds(a, b);
    try {
      const w = await api.createWidget(this.id, 'connectors', {
        src: { id: a.id, rel_location: ends.src, tip: 'none', auto_location: false },
        dst: { id: b.id, rel_location: ends.dst, tip: 'solid-equilateral-triangle', auto_location: false },
        line_color: '#475569ff', line_width: 3, type: 'straight',
      });
      if (!this.widgets.has(w.id)) this.widgets.set(w.id, w);
      this.history.push('Add connector', [{ kind: 'create', ref: this.history.ref(w.id), snap: { ...w } }]);
      this.selection = new Set([w.id]);
      this.sendPresence(this.lastCursor);
      this.schedule();
    } catch (e) {
      toast('Could not connect: ' + e.message, 'error');
    }
  }

  setTool(tool) {
    if (tool && !this.canEdit) return;
    this.tool = tool;
    this.viewport.classList.toggle('tool-connector', tool === 'connector');
    this.connectBtn.classList.toggle('on', tool === 'connector');
    this.connectBtn.setAttribute('aria-pressed', String(tool === 'connector'));
  }

  // -------------------------------------------------------------- anchors

  anchors() {
    return [...this.widgets.values()].filter((w) => w.widget_type === 'Anchor')
      .sort((a, b) => String(a.anchor_name || '').localeCompare(String(b.anchor_name || '')));
  }

  /** addAnchor asks for a name and adds a frame of that name in free space near the centre. */
  addAnchor() { return this.history.track(this.doAddAnchor()); }

  async doAddAnchor() {
    if (!this.canEdit) return;
    const name = await promptDialog('New anchor', 'Name', `Frame ${this.anchors().length + 1}`, 'Add');
    if (!name) return;
    const c = this.viewCenter();
    const W = 960, H = 600;
    const at = this.freeSpot(W, H, c.x, c.y);
    try {
      const w = await api.createWidget(this.id, 'anchors', { anchor_name: name, location: at, size: { width: W, height: H } });
      if (!this.widgets.has(w.id)) this.widgets.set(w.id, w);
      this.history.push('Add anchor', [{ kind: 'create', ref: this.history.ref(w.id), snap: { ...w } }]);
      this.selection = new Set([w.id]);
      this.schedule();
    } catch (e) {
      toast('Could not add the anchor: ' + e.message, 'error');
    }
  }

  async renameAnchor(id) {
    const w = this.widgets.get(id);
    if (!w || !this.canEdit) return;
    const name = await promptDialog('Rename anchor', 'Name', w.anchor_name || '');
    if (!name || name === w.anchor_name) return;
    await this.edit('Rename anchor', [{ w: this.widgets.get(id) || w, body: { anchor_name: name } }]);
  }

  // ------------------------------------------------------ digitize results

  /** exportCSV downloads a Table widget's cells as CSV. */
  exportCSV(id) {
    const w = this.widgets.get(id);
    const t = w && tableOf(w);
    if (!t) return;
    const name = (String(w.title || 'table').replace(/[\\/:*?"<>|]+/g, ' ').trim() || 'table') + '.csv';
    download(name, toCSV(tableGrid(t)), 'text/csv;charset=utf-8');
    toast(`Downloaded ${name}`, 'ok', 2000);
  }

  /** copyTSV copies a Table widget's cells as tab-separated text. */
  async copyTSV(id) {
    const w = this.widgets.get(id);
    const t = w && tableOf(w);
    if (!t) return;
    if (await copyText(toTSV(tableGrid(t)))) toast('Table copied: paste it into a spreadsheet.', 'ok', 2000);
    else toast('The browser refused the clipboard.', 'error');
  }

  /**
   * addDigitizedText puts the text read from an image on the canvas as a
   * note beside it (in free space), as one undoable step.
   */
  addDigitizedText(imageId, result) { return this.history.track(this.doAddText(imageId, result)); }

  async doAddText(imageId, result) {
    const img = this.widgets.get(imageId);
    const text = String((result && (result.content || (result.lines || []).map((l) => l.text).join('\n'))) || '').trim();
    if (!text) { toast('No text was found in the image.', 'info'); return; }
    const W = 340;
    // About 34 characters a line at the note's font; a blank line is a paragraph break.
    const lines = text.split('\n').reduce((n, l) => n + Math.max(1, Math.ceil(l.length / 34)), 0);
    const H = clamp(Math.round(84 + lines * 27), 160, 2400);
    const r = img ? this.rect(img) : null;
    const c = r ? { x: r.x + r.w + 40 + W / 2, y: r.y + H / 2 } : this.viewCenter();
    const at = this.freeSpot(W, H, c.x, c.y);
    const name = img ? (img.title || img.original_filename || '') : '';
    try {
      const w = await api.createNote(this.id, {
        text, title: name ? `Text from ${name}` : 'Digitized text', background_color: '#ffffff',
        location: at, size: { width: W, height: H },
      });
      if (!this.widgets.has(w.id)) this.widgets.set(w.id, w);
      const op = { kind: 'create', ref: this.history.ref(w.id), snap: { ...w } };
      this.history.push('Add digitized text', [op]);
      // The estimate may be short: the note grows to show all of its text, in the same undo step.
      this.render();
      const el = this.els.get(w.id);
      const need = el ? Math.ceil(el.scrollHeight) : 0;
      if (need > H + 1) {
        const res = await this.patchRaw(w, { size: { width: W, height: need } });
        if (res) op.snap = { ...op.snap, ...res };
      }
      this.schedule();
    } catch (e) {
      toast('Could not add the text as a note: ' + e.message, 'error');
    }
  }

  /** jumpTo fits the view to an anchor's frame. */
  jumpTo(id) {
    const w = this.widgets.get(id);
    if (!w) return;
    const b = this.rect(w);
    const r = this.viewport.getBoundingClientRect();
    const pad = 48;
    const z = clamp(Math.min((r.width - pad * 2) / Math.max(1, b.w), (r.height - pad * 2 - 40) / Math.max(1, b.h)), MIN_Z, MAX_Z);
    this.view = { z, x: r.width / 2 - (b.x + b.w / 2) * z, y: r.height / 2 + 20 - (b.y + b.h / 2) * z };
    this.selection = new Set([id]);
    this.anchorsMenu.hidden = true;
    this.schedule();
  }

  toggleAnchorsMenu() {
    const m = this.anchorsMenu;
    if (!m.hidden) { m.hidden = true; return; }
    const list = this.anchors();
    m.replaceChildren(...(list.length ? list.map((a) => h('button.anchor-item', { type: 'button', dataset: { id: a.id }, onclick: () => this.jumpTo(a.id) }, icon('frame'), h('span', a.anchor_name || 'Anchor')))
      : [h('p.muted.small', this.canEdit ? 'No anchors yet: add one with the Anchor tool (F).' : 'No anchors on this canvas.')]));
    m.hidden = false;
  }

  renderOverlay() {
    const boxes = [];
    const single = this.selection.size === 1 ? this.widgets.get([...this.selection][0]) : null;
    for (const id of this.selection) {
      const w = this.widgets.get(id);
      if (!w || w.widget_type === 'Connector') continue;
      boxes.push(this.screenBox(w, 'sel-box', null, single && this.canEdit && !w.pinned && this.editing !== id));
    }
    // A multi-selection gets one box around it, with corner handles: group resize.
    const group = this.selection.size > 1 && this.canEdit && !this.editing ? this.movable([...this.selection]) : [];
    if (group.length > 1) boxes.push(this.groupBox(group));
    // Other viewers' selections, in their colour.
    for (const c of this.cursors.values()) {
      for (const id of c.selection || []) {
        const w = this.widgets.get(id);
        if (!w || this.selection.has(id) || w.widget_type === 'Connector') continue;
        boxes.push(this.screenBox(w, 'remote-sel', c.viewer));
      }
      // Who is typing in which note.
      const ew = c.editing && this.widgets.get(c.editing);
      if (ew) {
        const box = this.screenBox(ew, 'remote-edit', c.viewer);
        box.querySelector('.remote-tag').textContent = `${c.viewer.name} is editing`;
        boxes.push(box);
      }
    }
    // Nothing to show and nothing shown: no DOM write (this runs on every pan frame).
    if (boxes.length || this.overlay.firstChild) this.overlay.replaceChildren(...boxes);
    this.renderFloatBar(single);
  }

  /** groupBox frames widgets ws on screen, with the handles of a group resize. */
  groupBox(ws) {
    const b = bbox(ws.map((w) => this.rect(w)));
    const p = this.toScreen(b.x, b.y);
    const box = h('div.group-box#group-box', {
      style: { transform: `translate(${p.x}px, ${p.y}px)`, width: b.w * this.view.z + 'px', height: b.h * this.view.z + 'px' },
    });
    for (const k of ['nw', 'ne', 'sw', 'se']) box.append(h('span.handle.h-' + k, { dataset: { handle: k, group: '1' } }));
    return box;
  }

  screenBox(w, cls, viewer, handles) {
    const r = this.rect(w);
    const p = this.toScreen(r.x, r.y);
    const box = h('div.' + cls, {
      style: { transform: `translate(${p.x}px, ${p.y}px)`, width: r.w * this.view.z + 'px', height: r.h * this.view.z + 'px' },
      dataset: { id: w.id },
    });
    if (viewer) {
      box.style.setProperty('--c', safeColor(viewer.color, VIEWER_COLOR));
      box.append(h('span.remote-tag', viewer.name));
    }
    if (handles) {
      for (const k of ['nw', 'ne', 'sw', 'se']) box.append(h('span.handle.h-' + k, { dataset: { handle: k, id: w.id } }));
      // Drag from this dot to another item to connect them.
      if (w.widget_type !== 'Anchor') box.append(h('span.link-handle', { dataset: { id: w.id }, title: 'Drag to another item to connect' }));
    }
    return box;
  }

  renderFloatBar(single) {
    const bar = this.floatBar;
    const sel = [...this.selection].map((id) => this.widgets.get(id)).filter(Boolean);
    if (!sel.length || !this.canEdit || this.drag || this.editing) { bar.hidden = true; return; }
    const w = single;
    const images = sel.filter((x) => x.widget_type === 'Image');
    const locked = sel.every((x) => x.pinned);
    const wel = w && w.widget_type === 'Note' ? this.els.get(w.id) : null;
    const over = !!(wel && wel.classList.contains('overflowing'));
    const key = (w ? `${w.id}:${w.widget_type}:${w.background_color || ''}:${w.anchor_name || ''}:${over}` : `multi:${sel.length}:${images.length}`) + `:${locked}`;
    if (bar.dataset.key !== key) {
      bar.dataset.key = key;
      const items = [];
      if (sel.every((x) => x.widget_type === 'Connector')) {
        // A connector: only delete (undo brings it back).
        items.push(h('span.fb-count', sel.length > 1 ? `${sel.length} connectors` : 'Connector'));
        items.push(h('button.fb-btn.danger-text#fb-delete', { type: 'button', title: 'Delete (Del)', onclick: () => this.deleteSelection() }, icon('trash')));
        bar.replaceChildren(...items);
      } else {
      if (w && w.widget_type === 'Anchor') {
        items.push(h('button.fb-btn#fb-rename-anchor', { type: 'button', title: 'Rename the anchor (double-click its name)', onclick: () => this.renameAnchor(w.id) }, icon('edit'), h('span', 'Rename')));
      }
      if (w && w.widget_type === 'Note') {
        items.push(h('div.swatches', NOTE_COLORS.map(([name, c]) => h('button.swatch' + (String(w.background_color || '').toLowerCase().startsWith(c) ? '.on' : ''), {
          type: 'button', title: name, 'aria-label': name, style: { background: c },
          onclick: () => this.edit('Colour', [{ w: this.widgets.get(w.id) || w, body: { background_color: c } }]),
        }))));
        items.push(h('button.fb-btn#fb-edit', { type: 'button', title: 'Edit text', onclick: () => this.editNote(w.id) }, icon('edit')));
        if (over) items.push(h('button.fb-btn#fb-fit', { type: 'button', title: 'Grow the note to show all of its text', onclick: () => this.fitNote(w.id) }, icon('expand'), h('span', 'Fit text')));
      }
      if (w && w.widget_type === 'Image') {
        items.push(
          h('button.fb-btn#fb-recrop', { type: 'button', title: 'Re-crop against the source page', onclick: () => openRecrop(this, w.id) }, icon('crop'), h('span', 'Re-crop')),
          h('button.fb-btn#fb-uncrop', { type: 'button', title: 'Uncrop (extend the image)', onclick: () => openUncrop(this, w.id) }, icon('expand'), h('span', 'Uncrop')));
      }
      if (w && w.widget_type === 'Table' && tableOf(w)) {
        items.push(
          h('button.fb-btn#fb-csv', { type: 'button', title: 'Download as CSV', onclick: () => this.exportCSV(w.id) }, icon('download'), h('span', 'CSV')),
          h('button.fb-btn#fb-tsv', { type: 'button', title: 'Copy as TSV (pastes into a spreadsheet)', onclick: () => this.copyTSV(w.id) }, icon('copy'), h('span', 'Copy')));
      }
      if (!w) items.push(h('span.fb-count', `${sel.length} selected`));
      if (images.length) {
        items.push(h('button.fb-btn#fb-digitize', { type: 'button', title: 'Digitize into tables, chart data or text', onclick: () => openDigitize(this, [...this.selection]) },
          icon('table'), h('span', images.length > 1 ? `Digitize ${images.length}` : 'Digitize')));
      }
      items.push(
        h('button.fb-btn#fb-front', { type: 'button', title: 'Bring to front (])', 'aria-label': 'Bring to front', onclick: () => this.bringToFront() }, icon('front')),
        h('button.fb-btn#fb-back', { type: 'button', title: 'Send to back ([)', 'aria-label': 'Send to back', onclick: () => this.sendToBack() }, icon('back2')),
        h('button.fb-btn#fb-duplicate', { type: 'button', title: 'Duplicate (Ctrl+D)', 'aria-label': 'Duplicate', onclick: () => this.duplicate() }, icon('copy')),
        h('button.fb-btn#fb-lock' + (locked ? '.on' : ''), { type: 'button', title: locked ? 'Unlock (L)' : 'Lock (L)', 'aria-label': locked ? 'Unlock' : 'Lock', onclick: () => this.toggleLock() }, icon(locked ? 'lock' : 'unlock')));
      items.push(h('button.fb-btn.danger-text#fb-delete', { type: 'button', title: 'Delete (Del)', onclick: () => this.deleteSelection() }, icon('trash')));
      bar.replaceChildren(...items);
      }
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
    let x = clamp(p.x - bw / 2, 8, Math.max(8, vw - bw - 8));
    let y = p.y - 56 < 8 ? this.toScreen(0, y1).y + 12 : p.y - 56;
    const ends = sel.length === 1 && sel[0].widget_type === 'Connector' ? this.connEnds(sel[0]) : null;
    if (ends) {
      // Beside the middle of the line, off it along its normal (the upper side): it covers neither the line nor, mostly, what it joins.
      const a = this.toScreen(ends.a.x, ends.a.y);
      const b = this.toScreen(ends.b.x, ends.b.y);
      const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
      let nx = -(b.y - a.y) / len;
      let ny = (b.x - a.x) / len;
      if (ny > 0 || (ny === 0 && nx < 0)) { nx = -nx; ny = -ny; }
      const bh = bar.offsetHeight || 40;
      const off = Math.abs(nx) * bw / 2 + Math.abs(ny) * bh / 2 + 12;
      const cx = (a.x + b.x) / 2 + nx * off;
      const cy = (a.y + b.y) / 2 + ny * off;
      x = clamp(cx - bw / 2, 8, Math.max(8, vw - bw - 8));
      y = cy - bh / 2;
    }
    bar.style.transform = `translate(${x}px, ${y}px)`;
  }

  renderCursors() {
    const nodes = [];
    for (const [id, c] of this.cursors) {
      if (!c.cursor) continue;
      const p = this.toScreen(num(c.cursor.x), num(c.cursor.y));
      nodes.push(h('div.cursor', { dataset: { viewer: id, name: c.viewer.name }, style: { transform: `translate(${p.x}px, ${p.y}px)`, '--c': safeColor(c.viewer.color, VIEWER_COLOR) } },
        h('span.cursor-arrow', { innerHTML: '<svg width="24" height="26" viewBox="0 0 20 22"><path d="M2 2 L2 18 L6.5 13.8 L9.6 20.4 L12.6 19 L9.6 12.6 L16 12.2 Z" fill="currentColor" stroke="#fff" stroke-width="1.6" stroke-linejoin="round"/></svg>' }),
        h('span.cursor-name', c.viewer.name)));
    }
    if (nodes.length || this.cursorLayer.firstChild) this.cursorLayer.replaceChildren(...nodes);
  }

  // --------------------------------------------------------- interaction

  /** hit returns the widget under a client point, whatever holds the pointer capture. */
  hit(x, y) {
    const el = document.elementFromPoint(x, y);
    const wel = el && el.closest('.widget');
    return wel && wel.closest('.viewport') === this.viewport ? this.widgets.get(wel.dataset.id) || null : null;
  }

  onPointerDown(e) {
    if (e.target.closest('.floatbar, .zoombar, .uploads, .banner, .job-panel, .empty-hint a, button, .browser-open, .media-status a')) return;
    this.viewport.focus({ preventScroll: true });
    if (this.editing && !e.target.closest(`.widget[data-id="${this.editing}"]`)) this.commitEdit();
    if (this.editing) return;
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    // The capture retargets later pointer events (and click, dblclick) to the
    // viewport: onDblClick hit-tests the point itself.
    this.viewport.setPointerCapture(e.pointerId);
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      this.drag = null;
      this.pinch = { d: Math.hypot(a.x - b.x, a.y - b.y), mx: (a.x + b.x) / 2, my: (a.y + b.y) / 2, z: this.view.z };
      return;
    }
    const start = { x: e.clientX, y: e.clientY };
    // A click on a connector's line selects it (Shift: adds or removes).
    const line = e.target.closest('.conn-hit');
    if (line && e.button === 0 && !this.spaceDown && this.tool !== 'connector') {
      const id = line.dataset.id;
      if (e.shiftKey) {
        if (this.selection.has(id)) this.selection.delete(id); else this.selection.add(id);
      } else {
        this.selection = new Set([id]);
      }
      this.drag = { kind: 'none', start, moved: false, id: null };
      this.sendPresence(this.lastCursor);
      this.schedule();
      e.preventDefault();
      return;
    }
    // The connector tool, or the dot on a selected item's edge: drag to another item.
    const link = e.target.closest('.link-handle');
    const from = link ? this.widgets.get(link.dataset.id) : this.tool === 'connector' ? this.hit(e.clientX, e.clientY) : null;
    if ((link || this.tool === 'connector') && this.canEdit && e.button === 0) {
      if (from && from.widget_type !== 'SharedCanvas') {
        this.drag = { kind: 'connect', src: from.id, start, to: this.toWorld(e.clientX, e.clientY), over: null, moved: false, id: null };
        e.preventDefault();
        return;
      }
      if (this.tool === 'connector' && !from) { this.setTool(null); }
    }
    const handle = e.target.closest('.handle');
    if (handle && this.canEdit && handle.dataset.group) {
      const ws = this.movable([...this.selection]);
      if (ws.length) {
        this.drag = {
          kind: 'gresize', handle: handle.dataset.handle, start, moved: false, id: ws[0].id,
          box: bbox(ws.map((w) => this.rect(w))), locs: new Map(), sizes: new Map(),
          items: ws.map((w) => ({ id: w.id, r: this.rect(w), loc0: { ...(w.location || { x: 0, y: 0 }) }, size0: { ...(w.size || { width: 0, height: 0 }) }, ps: this.parentScale(w) })),
        };
        e.preventDefault();
        return;
      }
    }
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
      const movers = this.canEdit && this.selection.has(w.id) ? this.movable([...this.selection]) : [];
      if (movers.length) {
        // Every selected widget moves with the one under the pointer.
        this.drag = {
          kind: 'move', id: w.id, start, moved: false, locs: new Map(),
          loc0s: new Map(movers.map((m) => [m.id, { ...(m.location || { x: 0, y: 0 }) }])),
          ps: new Map(movers.map((m) => [m.id, this.parentScale(m)])),
        };
      } else {
        this.drag = { kind: 'pan', start, view0: { ...this.view }, moved: false, id: null };
      }
      this.schedule();
      e.preventDefault();
      return;
    }
    if (e.shiftKey && e.button === 0 && !this.spaceDown) {
      // Shift + drag on the background: box select (added to the selection).
      this.drag = { kind: 'box', start, base: new Set(this.selection), moved: false, id: null };
      e.preventDefault();
      return;
    }
    // Background: pan; a click without movement clears the selection.
    this.setFollow(null);
    this.drag = { kind: 'pan', start, view0: { ...this.view }, moved: false, id: null, clear: !e.shiftKey };
    this.viewport.classList.add('panning');
  }

  /** movable keeps the widgets of ids a drag may move: unlocked, and not inside another moved one. */
  movable(ids) {
    const set = new Set(ids);
    return ids.map((id) => this.widgets.get(id)).filter((w) => {
      if (!w || w.pinned || w.widget_type === 'Connector' || w.widget_type === 'SharedCanvas') return false;
      for (let p = w.parent_id && this.widgets.get(w.parent_id), i = 0; p && i < 32; p = p.parent_id && this.widgets.get(p.parent_id), i++) {
        if (set.has(p.id)) return false;
      }
      return true;
    });
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
      this.scheduleView();
      return;
    }
    if (d.kind === 'box') {
      this.boxSelect(d, e.clientX, e.clientY);
      return;
    }
    if (d.kind === 'none') return;
    if (d.kind === 'connect') {
      d.to = world;
      const o = this.hit(e.clientX, e.clientY);
      d.over = o && o.id !== d.src && o.widget_type !== 'SharedCanvas' && o.widget_type !== 'Connector' ? o.id : null;
      this.schedule();
      return;
    }
    if (d.kind === 'move') {
      for (const [id, l0] of d.loc0s) {
        const k = this.view.z * d.ps.get(id);
        d.locs.set(id, { x: num(l0.x) + dx / k, y: num(l0.y) + dy / k });
      }
    } else if (d.kind === 'resize') {
      this.resizeTo(d, dx / this.view.z, dy / this.view.z);
    } else if (d.kind === 'gresize') {
      this.groupResizeTo(d, dx / this.view.z, dy / this.view.z);
    }
    this.schedule();
  }

  boxSelect(d, cx, cy) {
    const r = this.viewport.getBoundingClientRect();
    const sx0 = Math.min(d.start.x, cx) - r.left;
    const sy0 = Math.min(d.start.y, cy) - r.top;
    const sx1 = Math.max(d.start.x, cx) - r.left;
    const sy1 = Math.max(d.start.y, cy) - r.top;
    this.marquee.hidden = false;
    this.marquee.style.transform = `translate(${sx0}px, ${sy0}px)`;
    this.marquee.style.width = (sx1 - sx0) + 'px';
    this.marquee.style.height = (sy1 - sy0) + 'px';
    const v = this.view;
    const x0 = (sx0 - v.x) / v.z, y0 = (sy0 - v.y) / v.z, x1 = (sx1 - v.x) / v.z, y1 = (sy1 - v.y) / v.z;
    // A widget is taken when the box holds all of it.
    const sel = new Set(d.base);
    for (const w of this.widgets.values()) {
      if (w.widget_type === 'SharedCanvas' || w.widget_type === 'Connector') continue;
      const b = this.rect(w);
      if (b.x >= x0 && b.y >= y0 && b.x + b.w <= x1 && b.y + b.h <= y1) sel.add(w.id);
    }
    this.selection = sel;
    this.schedule();
  }

  /**
   * groupResizeTo scales a multi-selection about the corner opposite the
   * dragged handle: every position and size by one factor, so the group
   * keeps its layout and images their aspect.
   */
  groupResizeTo(d, dx, dy) {
    const b = d.box;
    const left = d.handle.includes('w');
    const top = d.handle.includes('n');
    const kx = (b.w + (left ? -dx : dx)) / Math.max(1, b.w);
    const ky = (b.h + (top ? -dy : dy)) / Math.max(1, b.h);
    // The smallest member stays at least 24 px wide and high.
    let kMin = 0;
    for (const it of d.items) kMin = Math.max(kMin, 24 / Math.max(1, Math.min(it.r.w, it.r.h)));
    const k = Math.max(kMin, Math.max(kx, ky));
    const ax = left ? b.x + b.w : b.x;
    const ay = top ? b.y + b.h : b.y;
    for (const it of d.items) {
      const nx = ax + (it.r.x - ax) * k;
      const ny = ay + (it.r.y - ay) * k;
      d.locs.set(it.id, { x: num(it.loc0.x) + (nx - it.r.x) / it.ps, y: num(it.loc0.y) + (ny - it.r.y) / it.ps });
      d.sizes.set(it.id, { width: num(it.size0.width) * k, height: num(it.size0.height) * k });
    }
    d.k = k;
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
    this.marquee.hidden = true;
    if (!d) return;
    if (d.kind === 'pan' && !d.moved && d.clear && this.selection.size) {
      this.selection.clear();
    }
    if (d.kind === 'box' || d.kind === 'pan' || d.kind === 'move') this.sendPresence(this.lastCursor);
    if (d.kind === 'connect') {
      if (d.moved && d.over) {
        this.setTool(null);
        this.connect(d.src, d.over);
      } else if (!d.moved) {
        // A click with the tool selects the item, ready to drag from.
        this.selection = new Set([d.src]);
      }
    }
    if (d.kind === 'move' && d.moved && d.locs.size) {
      const changes = [];
      for (const [id, l] of d.locs) {
        const w = this.widgets.get(id);
        if (w) changes.push({ w, body: { location: { x: round2(l.x), y: round2(l.y) } }, ifMatch: this.versionFor(id) });
      }
      this.edit(changes.length > 1 ? `Move ${changes.length} items` : 'Move', changes);
    }
    if (d.kind === 'gresize' && d.moved && d.sizes.size) {
      const changes = [];
      for (const [id, l] of d.locs) {
        const w = this.widgets.get(id);
        const sz = d.sizes.get(id);
        if (w && sz) {
          changes.push({ w, body: { location: { x: round2(l.x), y: round2(l.y) }, size: { width: round2(sz.width), height: round2(sz.height) } }, ifMatch: this.versionFor(id) });
        }
      }
      this.edit(`Resize ${changes.length} items`, changes);
    }
    if (d.kind === 'resize' && d.moved && d.size) {
      const w = this.widgets.get(d.id);
      if (w) {
        this.edit('Resize', [{ w, body: {
          location: { x: round2(d.loc.x), y: round2(d.loc.y) },
          size: { width: round2(d.size.width), height: round2(d.size.height) },
        } }]);
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
  async patch(w, body, opts = {}) {
    // Edits wait behind those queued offline: they reach the server in order.
    if (this.outbox.length && !this.resending) return this.enqueue('patch', w, body, opts);
    const ifMatch = opts.ifMatch ?? null;
    this.inflight.set(w.id, (this.inflight.get(w.id) || 0) + 1);
    const fields = { ...body };
    delete fields.auto_raise;
    const mark = { fields, until: Infinity };
    this.pendingFields.set(w.id, [...(this.pendingFields.get(w.id) || []), mark]);
    try {
      const { data, version } = await api.patchWidgetIf(this.id, w, body, ifMatch);
      this.noteVersion(w.id, version);
      // Kept until the event of this change arrives. When it already has,
      // the widget is shown as the events have it (a later change by
      // someone else, which arrived meanwhile, shows).
      if (version != null && (this.eventSeq.get(w.id) || 0) < version) {
        mark.until = version;
      } else {
        this.dropPending(w.id, mark);
        const ev = this.eventWidget.get(w.id);
        if (version != null && ev && this.widgets.has(w.id)) {
          this.widgets.set(w.id, this.overlayPending(ev));
          this.sigObj.delete(w.id);
          this.schedule();
        }
      }
      return data;
    } catch (e) {
      this.dropPending(w.id, mark);
      if (e.status === 0) return this.enqueue('patch', w, body, opts);
      if (e.status === 412 && ifMatch != null) return this.onConflict(w, body, opts);
      await this.rollback(w.id);
      toast(e.status === 403 ? 'You can only view this canvas.' : 'Could not save: ' + e.message, 'error');
      return null;
    } finally {
      const n = (this.inflight.get(w.id) || 1) - 1;
      if (n) this.inflight.set(w.id, n); else this.inflight.delete(w.id);
    }
  }

  /**
   * onConflict handles a 412: someone changed the widget since the version
   * this change was based on. The widget is read again. When the fields
   * this change sets are as they were when it began (opts.base), the other
   * change touched other fields: it is sent again on the new version. Text
   * both changed asks the user which to keep; any other field shows the
   * other person's value and says so. Nothing is overwritten or dropped
   * silently.
   */
  async onConflict(w, body, opts) {
    let cur, version;
    try {
      ({ data: cur, version } = await api.widgetMeta(this.id, w.id));
    } catch (e) {
      await this.rollback(w.id);
      toast('Could not save: ' + e.message, 'error');
      return null;
    }
    this.widgets.set(cur.id, cur);
    this.noteVersion(cur.id, version);
    this.sigObj.delete(cur.id);
    this.schedule();
    const base = opts.base || {};
    const keys = Object.keys(body).filter((k) => k !== 'auto_raise');
    if (keys.every((k) => norm(body[k]) === norm(cur[k] ?? null))) return cur; // same as theirs
    if (keys.every((k) => k in base && norm(base[k]) === norm(cur[k] ?? null))) {
      return this.patch(cur, body, { ...opts, ifMatch: version, base: Object.fromEntries(keys.map((k) => [k, cur[k] ?? null])) });
    }
    if (typeof body.text === 'string' && cur.widget_type === 'Note') {
      this.showConflict(cur, body.text, version);
      return null;
    }
    toast(`${this.editorName(cur.id)} changed this item first: your change was not applied.`, 'error', 5000);
    return null;
  }

  /** showConflict asks which text of a note to keep: the other person's save or this user's. */
  showConflict(cur, mine, version) {
    const who = this.editorName(cur.id);
    const theirs = cur.text || '';
    let chosen = false;
    modal({
      title: 'This note changed while you were editing',
      className: 'conflict',
      body: [
        h('p', `${who} changed this note while you were editing. Which text should the note keep?`),
        h('div.conflict-cols',
          h('div.conflict-col', h('h3', `${who}'s text`), h('pre.conflict-theirs', theirs)),
          h('div.conflict-col', h('h3', 'Your text'), h('pre.conflict-mine', mine))),
        h('p.muted.small', `Closing this dialog keeps ${who}'s text.`),
      ],
      actions: [
        { label: `Take ${who}'s`, id: 'conflict-theirs', onClick: (close) => { chosen = true; close(); } },
        { label: 'Keep mine', id: 'conflict-mine', primary: true, onClick: (close) => {
          chosen = true;
          close();
          this.edit('Edit text', [{ w: cur, body: { text: mine }, ifMatch: version, base: { text: theirs } }]);
        } },
      ],
      onClose: () => { if (!chosen) toast(`Kept ${who}'s text.`, 'info'); },
    });
  }

  /**
   * rollback undoes a failed optimistic change: the widget is read again
   * from the server. When that fails too (the network is down), the whole
   * canvas is reloaded once it is back, so the view never keeps a change
   * the server does not have.
   */
  async rollback(id) {
    try {
      const cur = await api.widget(this.id, id);
      if (cur && cur.id) this.widgets.set(cur.id, cur);
    } catch (e) {
      if (e.status === 404) this.widgets.delete(id);
      else { this.stale = true; this.scheduleFlush(); }
    }
    this.sigObj.delete(id);
    this.schedule();
  }

  // ------------------------------------------------------ offline queue

  /**
   * enqueue keeps an edit that could not reach the server (no network) and
   * answers as the server would, so the view and undo go on; flush sends the
   * queue, in order, once the server answers again.
   */
  enqueue(kind, w, body, opts = {}) {
    const first = !this.outbox.length;
    // A queued change keeps the version it was based on (If-Match): on the
    // reconnect it meets the same conflict path as a change sent at once. A
    // later change of a widget already queued is based on that queued change
    // ("chain"): it is sent on the version the earlier one produced.
    const chained = opts.ifMatch != null && this.outbox.some((it) => it.w.id === w.id && it.kind === 'patch');
    this.outbox.push({ kind, w: { id: w.id, widget_type: w.widget_type }, body, ifMatch: opts.ifMatch ?? null, base: opts.base, chained });
    if (first) toast('You are offline: your changes are kept and sent when the connection is back.', 'info', 4000);
    this.setStatus(this.statusEl.dataset.state);
    this.scheduleFlush();
    if (kind === 'delete') return true;
    const cur = this.widgets.get(w.id) || w;
    const shown = { ...body };
    delete shown.auto_raise;
    return { ...cur, ...shown };
  }

  scheduleFlush(ms = 2000) {
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.flush(), ms);
  }

  /** flush sends the queued edits in order; it stops at the first that still cannot get through. */
  async flush() {
    if (this.flushing || this.unmounted) return;
    this.flushing = true;
    let sent = 0;
    const made = new Map(); // widget id -> version its last queued change produced
    try {
      while (this.outbox.length) {
        const it = this.outbox[0];
        try {
          if (it.kind === 'patch') {
            const ifMatch = it.chained && made.has(it.w.id) ? made.get(it.w.id) : it.ifMatch;
            const { version } = await api.patchWidgetIf(this.id, it.w, it.body, ifMatch);
            this.noteVersion(it.w.id, version);
            if (version != null) made.set(it.w.id, version);
          } else {
            await api.deleteWidget(this.id, it.w);
          }
        } catch (e) {
          if (e.status === 0) { this.scheduleFlush(); return; }
          if (e.status === 412 && it.kind === 'patch') {
            // Someone changed it while this user was offline: merge, or ask (as for a change sent at once).
            // The canvas is read again after the flush: the changes queued behind this one were shown on the old state.
            this.stale = true;
            this.outbox.shift();
            this.setStatus(this.statusEl.dataset.state);
            const w = this.widgets.get(it.w.id) || it.w;
            // A merge is sent at once, in the queue's order, not behind the rest of it.
            this.resending = true;
            let res;
            try { res = await this.onConflict(w, it.body, { ifMatch: it.ifMatch, base: it.base }); } finally { this.resending = false; }
            if (res) sent++;
            continue;
          }
          if (!(it.kind === 'delete' && e.status === 404)) {
            toast('A change made offline could not be saved: ' + e.message, 'error', 6000);
            this.stale = true;
          }
        }
        this.outbox.shift();
        sent++;
        this.setStatus(this.statusEl.dataset.state);
      }
    } finally {
      this.flushing = false;
    }
    if (sent) toast(sent === 1 ? 'Your offline change was saved.' : `Your ${sent} offline changes were saved.`, 'ok', 2500);
    if (this.stale) { this.stale = false; await this.load(); }
  }

  /** reconcile runs after a reconnect: the queue goes out, then the view is reloaded from the server. */
  async reconcile() {
    await this.flush();
    if (this.outbox.length) return; // still failing: the next flush reloads
    this.stale = false;
    await this.load();
  }

  /** current reads a widget from the server: null when it is gone, undefined when that cannot be told. */
  async current(id) {
    try {
      return await api.widget(this.id, id);
    } catch (e) {
      if (e.status === 404) return null;
      toast('Could not check the canvas: ' + e.message, 'error');
      return undefined;
    }
  }

  /**
   * afterPending runs fn once the edits under way are saved, so a shortcut
   * pressed right after Ctrl+D or a paste acts on what they selected.
   */
  async afterPending(fn) {
    while (this.history.inflight.size) await Promise.allSettled([...this.history.inflight]);
    return fn();
  }

  /** patchRaw shows a change at once and saves it (history uses it to undo). */
  async patchRaw(w, body, opts) {
    const cur = this.widgets.get(w.id) || w;
    const shown = { ...body };
    delete shown.auto_raise;
    this.widgets.set(w.id, { ...cur, ...shown });
    this.schedule();
    return this.patch(cur, body, opts);
  }

  /**
   * edit saves changes ([{w, body}]) as one undoable action. The "before"
   * of each field is what this client showed when the edit began; the
   * "after" is what the server stored.
   */
  edit(label, changes, opts) { return this.history.track(this.doEdit(label, changes, opts)); }

  async doEdit(label, changes, { sequential = false } = {}) {
    const one = async ({ w, body, ifMatch, base }) => {
      const cur = this.widgets.get(w.id) || w;
      const before = {};
      for (const k of Object.keys(body)) {
        if (k === 'auto_raise') before.depth = cur.depth ?? null;
        else before[k] = cur[k] === undefined ? null : JSON.parse(JSON.stringify(cur[k]));
      }
      const opts = ifMatch == null ? undefined : { ifMatch, base: { ...before, ...(base || {}) } };
      const res = await this.patchRaw(cur, body, opts);
      if (!res) return null;
      const after = {};
      for (const k of Object.keys(before)) after[k] = res[k] === undefined ? null : res[k];
      if (norm(after) === norm(before)) return null;
      return { kind: 'patch', ref: this.history.ref(w.id), before, after };
    };
    let ops;
    if (sequential) {
      ops = [];
      for (const c of changes) ops.push(await one(c));
    } else {
      ops = await Promise.all(changes.map(one));
    }
    this.history.push(label, ops);
    return ops.filter(Boolean).length;
  }

  /** removeRaw deletes a widget on the server. */
  async removeRaw(w) {
    try {
      if (this.outbox.length) this.enqueue('delete', w);
      else await api.deleteWidget(this.id, w);
    } catch (e) {
      if (e.status === 0) this.enqueue('delete', w);
      else if (e.status !== 404) { toast('Could not delete: ' + e.message, 'error'); return false; }
    }
    this.widgets.delete(w.id);
    this.selection.delete(w.id);
    this.schedule();
    return true;
  }

  /** recropRaw re-crops an image to box (history uses it to undo a re-crop); answers the deal API's {version, ...} or null. */
  async recropRaw(w, box, mode) {
    try {
      return await api.recrop(this.id, w.id, box, mode);
    } catch (e) {
      toast('Could not re-crop: ' + e.message, 'error');
      return null;
    }
  }

  /** recreate creates a widget like snap (undo of a delete, paste); images need their bytes. */
  async recreate(snap, blob, extra = {}) {
    const t = snap.widget_type;
    const fields = CREATE_FIELDS[t];
    if (!fields) return null;
    const body = {};
    for (const k of fields) if (snap[k] !== undefined && snap[k] !== null) body[k] = snap[k];
    if (snap.parent_id && snap.parent_id !== this.rootId && this.widgets.has(snap.parent_id) && !('location' in extra)) body.parent_id = snap.parent_id;
    Object.assign(body, extra);
    try {
      let w;
      if (FILE_ROUTE[t]) {
        if (!blob) return null;
        const name = snap.original_filename || `${snap.title || 'image'}.${(blob.type.split('/')[1] || 'png').replace('svg+xml', 'svg')}`;
        w = await upload(this.id, new File([blob], name, { type: blob.type }), body, () => {}, FILE_ROUTE[t]);
      } else {
        w = await api.createWidget(this.id, CREATE_PATH[t], body);
      }
      if (w && w.id && !this.widgets.has(w.id)) this.widgets.set(w.id, w);
      this.schedule();
      return w;
    } catch (e) {
      toast('Could not restore: ' + e.message, 'error');
      return null;
    }
  }

  onWheel(e) {
    if (e.target.closest('.modal, .floatbar')) return;
    e.preventDefault();
    this.setFollow(null);
    const r = this.viewport.getBoundingClientRect();
    let dx = e.deltaX;
    let dy = e.deltaY;
    if (e.deltaMode === 1) { dx *= 16; dy *= 16; } else if (e.deltaMode === 2) { dx *= r.width; dy *= r.height; }
    // Pinch on a trackpad arrives as a wheel with ctrlKey: zoom.
    if (e.ctrlKey || e.metaKey) {
      this.zoomAt(e.clientX - r.left, e.clientY - r.top, this.view.z * Math.exp(-dy * 0.01));
      return;
    }
    // Two-finger scroll (and the wheel) pans; Shift turns vertical into sideways.
    if (e.shiftKey && !dx) { dx = dy; dy = 0; }
    this.view.x -= dx;
    this.view.y -= dy;
    this.scheduleView();
  }

  onDblClick(e) {
    if (!this.canEdit || e.target.closest('.floatbar, .zoombar, .uploads, button')) return;
    // The pointer capture sends dblclick to the viewport: hit-test the point.
    const w = this.hit(e.clientX, e.clientY);
    if (w) {
      if (w.widget_type === 'Note') this.editNote(w.id);
      else if (w.widget_type === 'Anchor') this.renameAnchor(w.id);
      return;
    }
    if (e.target.closest('.handle')) return;
    const p = this.toWorld(e.clientX, e.clientY);
    this.addNote(this.freeSpot(300, 220, p.x, p.y));
  }

  onKeyDown(e) {
    if (document.querySelector('.modal-back')) return;
    const typing = e.target.closest && e.target.closest('input, textarea, select, [contenteditable="true"], [contenteditable="plaintext-only"]');
    if (typing) {
      // Enter is a new line; Esc or Ctrl/Cmd+Enter finishes (and saves).
      if (this.editing && e.key === 'Escape') { e.preventDefault(); this.commitEdit(); }
      if (this.editing && e.key === 'Enter' && (e.metaKey || e.ctrlKey)) { e.preventDefault(); this.commitEdit(); }
      return;
    }
    const mod = e.metaKey || e.ctrlKey;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (e.code === 'Space' && !this.spaceDown) {
      this.spaceDown = true;
      this.viewport.classList.add('space');
      e.preventDefault();
      return;
    }
    if (mod && key === 'z') {
      e.preventDefault();
      if (this.canEdit) { if (e.shiftKey) this.history.redo(); else this.history.undo(); }
      return;
    }
    if (mod && key === 'y') {
      e.preventDefault();
      if (this.canEdit) this.history.redo();
      return;
    }
    if (mod && key === 'a') {
      e.preventDefault();
      this.selectAll();
      return;
    }
    if (mod && (key === 'c' || key === 'x')) {
      if (!this.selection.size) return;
      e.preventDefault();
      this.afterPending(() => {
        this.copySelection();
        if (key === 'x' && this.canEdit) this.deleteSelection();
      });
      return;
    }
    if (mod && key === 'v') {
      e.preventDefault();
      if (this.canEdit) this.paste();
      return;
    }
    if (mod && key === 'd') {
      e.preventDefault();
      if (this.canEdit && this.selection.size) this.afterPending(() => this.duplicate());
      return;
    }
    if (e.key === '?') {
      e.preventDefault();
      helpDialog();
      return;
    }
    if ((e.key === 'Delete' || e.key === 'Backspace') && this.selection.size && this.canEdit) {
      e.preventDefault();
      this.afterPending(() => this.deleteSelection());
    } else if (e.key === 'Escape') {
      this.setTool(null);
      this.setFollow(null);
      this.anchorsMenu.hidden = true;
      this.selection.clear();
      this.sendPresence(this.lastCursor);
      this.schedule();
    } else if (e.key === 'Enter' && !mod && this.selection.size === 1) {
      const w = this.widgets.get([...this.selection][0]);
      if (w && w.widget_type === 'Note') { e.preventDefault(); this.editNote(w.id); }
    } else if (key === 'm' && !mod) {
      this.toggleMinimap();
    } else if (key === 'n' && this.canEdit && !mod) {
      this.addNoteAtCenter();
    } else if (key === 'c' && this.canEdit && !mod) {
      this.setTool(this.tool === 'connector' ? null : 'connector');
    } else if (key === 'f' && this.canEdit && !mod) {
      e.preventDefault();
      this.addAnchor();
    } else if ((e.key === ']' || e.key === '[') && !mod && this.canEdit && this.selection.size) {
      e.preventDefault();
      this.afterPending(() => (e.key === ']' ? this.bringToFront() : this.sendToBack()));
    } else if (key === 'l' && !mod && this.canEdit && this.selection.size) {
      this.afterPending(() => this.toggleLock());
    } else if (e.key.startsWith('Arrow') && !mod && this.canEdit && this.selection.size) {
      e.preventDefault();
      const step = (e.shiftKey ? 10 : 1) / this.view.z;
      const dx = e.key === 'ArrowLeft' ? -step : e.key === 'ArrowRight' ? step : 0;
      const dy = e.key === 'ArrowUp' ? -step : e.key === 'ArrowDown' ? step : 0;
      this.edit('Nudge', this.movable([...this.selection]).map((w) => {
        const k = this.parentScale(w);
        return { w, body: { location: { x: round2(num(w.location?.x) + dx / k), y: round2(num(w.location?.y) + dy / k) } } };
      }));
    } else if (e.key === '0' && mod) {
      e.preventDefault();
      this.fit();
    }
  }

  /** selectAll selects every widget of the canvas (not the page's text). */
  selectAll() {
    this.selection = new Set([...this.widgets.values()]
      .filter((w) => w.widget_type !== 'SharedCanvas' && w.widget_type !== 'Connector').map((w) => w.id));
    this.sendPresence(this.lastCursor);
    this.schedule();
  }

  selected() { return [...this.selection].map((id) => this.widgets.get(id)).filter(Boolean); }

  /**
   * deleteSelection deletes exactly the selected widgets. With undo there is
   * no confirmation, except for widgets undo cannot bring back (tables and
   * other server-made types). Locked widgets stay.
   */
  deleteSelection() { return this.history.track(this.doDelete()); }

  async doDelete() {
    const all = this.selected();
    const ws = all.filter((w) => !w.pinned && w.widget_type !== 'SharedCanvas');
    if (ws.length < all.length) toast('Locked items were kept (unlock them with L).', 'info');
    if (!ws.length) return;
    const lost = ws.filter((w) => !CREATE_FIELDS[w.widget_type]);
    if (lost.length) {
      const what = ws.length === 1 ? `this ${ws[0].widget_type.toLowerCase()}` : `${ws.length} items`;
      if (!await confirmDialog(`Delete ${what}?`, `${lost.length === 1 ? 'One of them' : `${lost.length} of them`} cannot be brought back with undo. Everyone on this canvas will see it disappear.`)) return;
    }
    const ops = await Promise.all(ws.map(async (w) => {
      let blob = null;
      if (FILE_ROUTE[w.widget_type]) { try { blob = await fetchBlob(w.widget_type === 'Image' ? this.imageURL(w) : `/api/v1/canvases/${this.id}/${FILE_ROUTE[w.widget_type]}/${w.id}/download`); } catch { /* undo will say it cannot */ } }
      if (!await this.removeRaw(w)) return null;
      return CREATE_FIELDS[w.widget_type] ? { kind: 'delete', ref: this.history.ref(w.id), snap: { ...w }, blob } : null;
    }));
    const n = ops.filter(Boolean).length;
    this.history.push(n > 1 ? `Delete ${n} items` : 'Delete', ops);
    this.sendPresence(this.lastCursor);
    this.schedule();
  }

  // ------------------------------------------------- clipboard and order

  /** clipItems describes widgets for a paste: their fields and world rectangle. */
  clipItems(ws) {
    return ws.filter((w) => CREATE_FIELDS[w.widget_type] && w.widget_type !== 'Connector')
      .sort((a, b) => num(a.depth) - num(b.depth))
      .map((w) => {
        const snap = { widget_type: w.widget_type };
        for (const k of CREATE_FIELDS[w.widget_type]) if (w[k] !== undefined) snap[k] = w[k];
        if (w.original_filename) snap.original_filename = w.original_filename;
        return { snap, rect: this.rect(w), src: w.widget_type === 'Image' ? this.imageURL(w) : FILE_ROUTE[w.widget_type] ? `/api/v1/canvases/${this.id}/${FILE_ROUTE[w.widget_type]}/${w.id}/download` : null };
      });
  }

  copySelection() {
    const items = this.clipItems(this.selected());
    if (!items.length) { toast('Nothing here can be copied.', 'info'); return; }
    writeClip({ canvas: this.id, items, at: Date.now() });
    toast(items.length === 1 ? 'Copied' : `Copied ${items.length} items`, 'ok', 1500);
  }

  async paste() {
    const clip = readClip();
    if (!clip || !clip.items || !clip.items.length) { toast('The clipboard is empty.', 'info'); return; }
    const c = this.viewCenter();
    await this.placeCopies(clip.items, c.x, c.y, 'Paste');
  }

  async duplicate() {
    const items = this.clipItems(this.selected());
    if (!items.length) return;
    const b = bbox(items.map((i) => i.rect));
    await this.placeCopies(items, b.x + b.w + 24 + b.w / 2, b.y + b.h / 2, 'Duplicate');
  }

  /** placeCopies creates items as a group in free space near (cx, cy), selects them and records one undo step. */
  placeCopies(items, cx, cy, label) { return this.history.track(this.doPlace(items, cx, cy, label)); }

  async doPlace(items, cx, cy, label) {
    const b = bbox(items.map((i) => i.rect));
    const at = this.freeSpot(b.w, b.h, cx, cy);
    const ops = [];
    const made = [];
    for (const it of items) {
      let blob = null;
      if (it.src) {
        try { blob = await fetchBlob(it.src); } catch (e) { toast('Could not copy an image: ' + e.message, 'error'); continue; }
      }
      const s = num(it.rect.s, 1);
      const extra = { location: { x: round2(at.x + it.rect.x - b.x), y: round2(at.y + it.rect.y - b.y) }, scale: s };
      delete it.snap.depth; // on top of everything
      const w = await this.recreate(it.snap, blob, extra);
      if (!w) continue;
      made.push(w.id);
      ops.push({ kind: 'create', ref: this.history.ref(w.id), snap: { ...w }, blob });
    }
    this.history.push(made.length > 1 ? `${label} ${made.length} items` : label, ops);
    if (made.length) {
      this.selection = new Set(made);
      this.sendPresence(this.lastCursor);
      this.schedule();
    }
  }

  async bringToFront() {
    const ws = this.selected().filter((w) => w.widget_type !== 'Connector').sort((a, b) => num(a.depth) - num(b.depth));
    await this.edit('Bring to front', ws.map((w) => ({ w, body: { auto_raise: true } })), { sequential: true });
  }

  async sendToBack() {
    const ws = this.selected().filter((w) => w.widget_type !== 'Connector').sort((a, b) => num(a.depth) - num(b.depth));
    if (!ws.length) return;
    const ids = new Set(ws.map((w) => w.id));
    const parents = new Set(ws.map((w) => w.parent_id));
    let low = Infinity;
    for (const o of this.widgets.values()) {
      if (!ids.has(o.id) && parents.has(o.parent_id) && o.widget_type !== 'Connector' && o.widget_type !== 'SharedCanvas') low = Math.min(low, num(o.depth));
    }
    if (!isFinite(low)) return;
    const floor = ws.some((w) => w.widget_type === 'Image') ? 1 : 0;
    const n = ws.length;
    const depthOf = (i) => {
      if (low - n >= floor) return low - n + i;
      if (low > floor) return floor + (low - floor) * (i + 1) / (n + 1);
      return floor;
    };
    await this.edit('Send to back', ws.map((w, i) => ({ w, body: { depth: Math.round(depthOf(i) * 1e6) / 1e6 } })));
  }

  async toggleLock() {
    const ws = this.selected().filter((w) => w.widget_type !== 'Connector');
    if (!ws.length) return;
    const lock = !ws.every((w) => w.pinned);
    await this.edit(lock ? 'Lock' : 'Unlock', ws.map((w) => ({ w, body: { pinned: lock } })));
    toast(lock ? 'Locked: it cannot be moved or deleted until unlocked.' : 'Unlocked', 'info', 2000);
  }

  async rename() {
    if (!this.canEdit || !this.canvas) return;
    const name = await promptDialog('Rename canvas', 'Name', this.canvas.name);
    if (!name) return;
    try { this.applyCanvas(await api.renameCanvas(this.id, name)); } catch (e) { toast(e.message, 'error'); }
  }

  // --------------------------------------------------------------- notes

  viewCenter() {
    const r = this.viewport.getBoundingClientRect();
    return this.toWorld(r.left + r.width / 2, r.top + r.height / 2);
  }

  /** freeSpot returns the top-left of a w×h place near (cx, cy) that covers no widget. */
  freeSpot(w, h, cx, cy) {
    const rects = [];
    for (const o of this.widgets.values()) {
      if (o.widget_type === 'SharedCanvas' || o.widget_type === 'Connector' || o.widget_type === 'Anchor') continue;
      rects.push(this.rect(o));
    }
    for (const r of this.placing || []) rects.push(r); // uploads under way
    const p = findFree(rects, w, h, cx, cy);
    return { x: Math.round(p.x), y: Math.round(p.y) };
  }

  addNoteAtCenter() {
    const c = this.viewCenter();
    this.addNote(this.freeSpot(300, 220, c.x, c.y));
  }

  addNote(location) { return this.history.track(this.doAddNote(location)); }

  async doAddNote(location) {
    const color = NOTE_COLORS[this.widgets.size % 5][1];
    try {
      const w = await api.createNote(this.id, {
        text: '', background_color: color,
        location: { x: Math.round(location.x), y: Math.round(location.y) },
        size: { width: 300, height: 220 },
      });
      if (!this.widgets.has(w.id)) this.widgets.set(w.id, w); // the event may have come first
      // The note's first text joins this step (see commitEdit).
      this.history.push('Add note', [{ kind: 'create', ref: this.history.ref(w.id), snap: { ...w }, fresh: true }]);
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
    el.classList.remove('overflowing');
    text.setAttribute('contenteditable', 'plaintext-only');
    if (text.contentEditable !== 'plaintext-only') text.setAttribute('contenteditable', 'true');
    text.spellcheck = true;
    text.addEventListener('blur', () => { if (this.editing === id) this.commitEdit(); }, { once: true });
    // Long text grows the note while typing; the height is saved with the text.
    text.addEventListener('input', () => { if (this.editing === id) { this.growNote(el); this.queueDraft(id, text); } });
    // The version the edit is based on: saving sends it as If-Match.
    const st = { id, baseText: w.text || '', version: this.versions.get(id) ?? null };
    this.editState = st;
    if (st.version == null) {
      api.widgetMeta(this.id, id).then(({ data, version }) => {
        if (this.editState !== st || st.version != null) return;
        st.version = version;
        if (data && data.id === id) {
          this.widgets.set(id, data);
          this.remoteWhileEditing(data, version);
        }
      }, () => {});
    }
    this.setEditingPresence({ editing: id });
    text.focus();
    const range = document.createRange();
    range.selectNodeContents(text);
    range.collapse(false);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    this.growNote(el);
    this.schedule();
  }

  /** queueDraft sends the text being typed to the other viewers, at most every 300 ms (presence: never stored). */
  queueDraft(id, text) {
    if (this.draftTimer) return;
    this.draftTimer = setTimeout(() => {
      this.draftTimer = 0;
      if (this.editing !== id) return;
      const draft = text.innerText.replace(/\n$/, '');
      // Long drafts are not sent live (the server bounds a presence message); the saved text is.
      this.setEditingPresence(draft.length <= 4000 ? { editing: id, draft } : { editing: id });
    }, 300);
  }

  /** growNote makes a note's element tall enough for its text; returns the height it needs. */
  growNote(el) {
    const need = Math.ceil(el.scrollHeight);
    if (need > el.clientHeight + 1) el.style.height = need + 'px';
    return need;
  }

  commitEdit() { return this.history.track(this.doCommit()); }

  async doCommit() {
    const id = this.editing;
    if (!id) return;
    this.editing = null;
    const st = this.editState && this.editState.id === id ? this.editState : null;
    this.editState = null;
    clearTimeout(this.draftTimer);
    this.draftTimer = 0;
    const el = this.els.get(id);
    const w = this.widgets.get(id);
    if (!el || !w) { this.setEditingPresence({ editing: '' }); return; }
    const hint = el.querySelector('.note-hint');
    if (hint) hint.remove();
    const text = el.querySelector('.note-text');
    const value = text ? text.innerText.replace(/\n$/, '') : '';
    if (text) text.removeAttribute('contenteditable');
    el.classList.remove('editing');
    this.sigs.delete(id);
    this.sigObj.delete(id);
    const body = {};
    if (value !== (w.text || '')) body.text = value;
    // Auto-grow: a note never hides its text; it does not shrink by itself.
    const need = this.growNote(el);
    const size = w.size || {};
    if (need > num(size.height) + 1) body.size = { width: num(size.width, 300), height: need };
    el.geo = null;
    const top = this.history.top();
    const fresh = top && top.ops.length === 1 && top.ops[0].kind === 'create' && top.ops[0].fresh && top.ops[0].ref.id === id ? top.ops[0] : null;
    if (fresh) fresh.fresh = false;
    if (Object.keys(body).length) {
      if (fresh) {
        // A new note's first text is part of adding it: one undo removes both.
        const res = await this.patchRaw(w, body);
        if (res) fresh.snap = { ...fresh.snap, ...res };
      } else {
        // Based on the version the edit began from: a save by someone else
        // in between answers 412, and the user chooses (onConflict).
        const ifMatch = st && body.text !== undefined ? st.version : null;
        const base = st && body.text !== undefined ? { text: st.baseText } : undefined;
        await this.edit(body.text !== undefined ? 'Edit text' : 'Resize', [{ w, body, ifMatch, base }]);
      }
    }
    this.setEditingPresence({ editing: '' });
    this.schedule();
  }

  /** fitNote grows a note whose text does not fit to the height its text needs (one undo step). */
  async fitNote(id) {
    const w = this.widgets.get(id);
    const el = this.els.get(id);
    if (!w || !el || !this.canEdit) return;
    const need = Math.ceil(el.scrollHeight);
    const size = w.size || {};
    if (need <= num(size.height) + 1) return;
    await this.edit('Fit text', [{ w, body: { size: { width: num(size.width, 300), height: need } }, ifMatch: this.versionFor(id) }]);
  }

  // ------------------------------------------------------------- uploads

  async uploadFiles(files, at) {
    const items = files.map((f) => ({ file: f, route: uploadRoute(f) })).filter((x) => x.route);
    if (!items.length) { toast('Only images, PDFs and videos (MP4, WebM, QuickTime, Matroska) can be added here.', 'error'); return; }
    if (items.length < files.length) toast(`${files.length - items.length} file(s) skipped: only images, PDFs and videos can be added.`, 'info');
    const r = this.viewport.getBoundingClientRect();
    let origin = at || this.toWorld(r.left + r.width / 2, r.top + r.height / 2);
    for (const { file, route } of items) {
      const dims = route === 'images' ? await naturalSize(file) : null;
      const maxEdge = Math.min(640, 640 / Math.max(this.view.z, 0.25));
      const k = dims ? Math.min(1, maxEdge / Math.max(dims.w, dims.h)) : 1;
      // A PDF or video takes its page or frame size from the server (the
      // page's CSP keeps blob: media from loading here); it is placed as
      // a box of at most maxEdge and shrunk to it below.
      const size = dims ? { width: Math.round(dims.w * k), height: Math.round(dims.h * k) } : route === 'images' ? { width: 480, height: 360 } : null;
      const box = size || (route === 'pdfs' ? { width: Math.round(maxEdge * 0.77), height: Math.round(maxEdge) } : { width: Math.round(maxEdge), height: Math.round(maxEdge * 0.5625) });
      // In free space near the drop point (or the centre): never on top of others.
      const meta = { title: file.name.replace(/\.[^.]+$/, ''), location: this.freeSpot(box.width, box.height, origin.x, origin.y) };
      if (size) meta.size = size;
      this.placing = (this.placing || []).concat([{ x: meta.location.x, y: meta.location.y, w: box.width, h: box.height }]);
      const bar = h('div.bar-fill');
      const pct = h('span.pct', '0%');
      const item = h('div.upload-item', h('div.upload-name', icon(route === 'images' ? 'image' : route === 'pdfs' ? 'doc' : 'play'), h('span', file.name), pct), h('div.bar', bar));
      this.uploads.append(item);
      try {
        let w = await upload(this.id, file, meta, (f) => {
          bar.style.width = (f * 100).toFixed(0) + '%';
          pct.textContent = (f * 100).toFixed(0) + '%';
        }, route);
        const ws = w && w.size;
        if (!size && ws && Math.max(num(ws.width), num(ws.height)) > maxEdge) {
          const f = maxEdge / Math.max(num(ws.width), num(ws.height));
          const fit = { width: Math.round(num(ws.width) * f), height: Math.round(num(ws.height) * f) };
          this.widgets.set(w.id, { ...(this.widgets.get(w.id) || w), size: fit });
          w = (await this.patch(w, { size: fit })) || { ...w, size: fit };
        }
        bar.style.width = '100%';
        pct.textContent = 'Done';
        item.classList.add('done');
        if (w && w.id && !this.widgets.has(w.id)) { this.widgets.set(w.id, w); this.schedule(); }
        const what = { images: 'image', pdfs: 'PDF', videos: 'video' }[route];
        if (w && w.id) this.history.push('Add ' + what, [{ kind: 'create', ref: this.history.ref(w.id), snap: { ...w }, blob: file }]);
      } catch (e) {
        item.classList.add('failed');
        pct.textContent = 'Failed';
        toast(`${file.name}: ${e.message}`, 'error', 6000);
      }
      setTimeout(() => item.remove(), 2500);
    }
    this.placing = [];
  }
}

function round2(v) { return Math.round(v * 100) / 100; }

/** readPref and writePref keep a view preference in localStorage (private mode: not kept). */
function readPref(k) { try { return localStorage.getItem('canvasd.' + k); } catch { return null; } }
function writePref(k, v) { try { localStorage.setItem('canvasd.' + k, v); } catch { /* not kept */ } }

/** bbox of rectangles {x, y, w, h}. */
function bbox(rects) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const r of rects) {
    x0 = Math.min(x0, r.x); y0 = Math.min(y0, r.y);
    x1 = Math.max(x1, r.x + r.w); y1 = Math.max(y1, r.y + r.h);
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
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
