// media.js: PDF, video and browser (URL) widgets on the canvas, media
// uploads, and the canvas list's thumbnails.
//
// - A PDF shows its current page (the widget's `index`, from 1) as a mipmap
//   level of that page (GET /mipmaps/:hash/:level?page=N-1 with the canvas-id
//   header, so it is fetched and shown as a blob: URL); the ‹ › buttons PATCH
//   `index`, as an undoable edit.
// - A video plays in a <video> from its /download route (the session cookie
//   authenticates it, as for images); play, pause and the end PATCH
//   `playback_state` and `playback_position`, and another viewer's change is
//   followed.
// - A browser widget is a card with its title, host and a link that opens
//   the page in a new tab (rel=noopener noreferrer): never an iframe.

import { authHeaders, getToken, ApiError } from './api.js';
import { h, icon, svg } from './ui.js';

// GLYPHS are the video bar's button faces (no emoji: not every system has the font).
const GLYPHS = {
  play: [['path', { d: 'M8 5v14l11-7z', fill: 'currentColor' }]],
  pause: [['rect', { x: '6', y: '5', width: '4', height: '14', fill: 'currentColor' }], ['rect', { x: '14', y: '5', width: '4', height: '14', fill: 'currentColor' }]],
  sound: [['path', { d: 'M4 9h4l5-4v14l-5-4H4z', fill: 'currentColor' }], ['path', { d: 'M16 8.5a5 5 0 0 1 0 7M18.5 6a8.5 8.5 0 0 1 0 12', fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round' }]],
  muted: [['path', { d: 'M4 9h4l5-4v14l-5-4H4z', fill: 'currentColor' }], ['path', { d: 'M16 9l6 6M22 9l-6 6', fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round' }]],
};

/** glyph sets a button's face to one of GLYPHS. */
function glyph(btn, name) {
  btn.replaceChildren(svg('svg', { viewBox: '0 0 24 24', width: '14', height: '14', 'aria-hidden': 'true' }, ...GLYPHS[name].map(([t, a]) => svg(t, a))));
}

function num(v, d = 0) { return typeof v === 'number' && isFinite(v) ? v : d; }

/** MEDIA_TYPES are the widget types this module draws. */
export const MEDIA_TYPES = new Set(['Pdf', 'Video', 'Browser']);

/** mediaSig is what, when changed, redraws a media widget. */
export function mediaSig(w) {
  switch (w.widget_type) {
    case 'Pdf': return JSON.stringify([w.hash, w.index, w.title]);
    case 'Video': return JSON.stringify([w.hash, w.title, w.playback_state, w.playback_position]);
    default: return JSON.stringify([w.url, w.title]);
  }
}

/** uploadRoute names the collection a file is uploaded to, or '' when none takes it. */
export function uploadRoute(file) {
  const t = file.type || '';
  if (t === 'application/pdf' || /\.pdf$/i.test(file.name)) return 'pdfs';
  if (/^video\//.test(t) || /\.(mp4|m4v|mov|webm|mkv)$/i.test(file.name)) return 'videos';
  if (/^image\//.test(t) || /\.(png|jpe?g|gif|webp|svg)$/i.test(file.name)) return 'images';
  return '';
}

/** UPLOAD_ACCEPT is the file picker's accept list. */
export const UPLOAD_ACCEPT = 'image/*,application/pdf,.pdf,video/mp4,video/webm,video/quicktime,video/x-matroska,.mp4,.m4v,.mov,.webm,.mkv';

/** videoSize reads a video file's frame size in the browser, or null. */
export async function videoSize(file) {
  const url = URL.createObjectURL(file);
  try {
    return await new Promise((resolve) => {
      const v = document.createElement('video');
      v.preload = 'metadata';
      v.muted = true;
      const done = (r) => { v.removeAttribute('src'); v.load(); resolve(r); };
      v.onloadedmetadata = () => done(v.videoWidth && v.videoHeight ? { w: v.videoWidth, h: v.videoHeight } : null);
      v.onerror = () => done(null);
      setTimeout(() => done(null), 3000);
      v.src = url;
    });
  } finally {
    URL.revokeObjectURL(url);
  }
}

// ------------------------------------------------------------ page images

/**
 * MediaCache keeps a canvas view's PDF page images (blob: URLs), keyed by
 * hash, page and level; dispose() frees them when the view closes.
 */
export class MediaCache {
  constructor(canvasID) {
    this.canvasID = canvasID;
    this.infos = new Map(); // hash/page -> Promise<{resolution, max_level, pages}>
    this.urls = new Map(); // hash/page/level -> Promise<blob: URL>
  }

  async get(path) {
    const res = await fetch(path, { headers: { ...authHeaders(path), 'canvas-id': this.canvasID }, credentials: 'same-origin' });
    if (!res.ok) {
      let msg = `Request failed (${res.status})`;
      try { const b = await res.json(); if (b && typeof b.msg === 'string') msg = b.msg; } catch { /* not JSON */ }
      throw new ApiError(res.status, msg);
    }
    return res;
  }

  info(hash, page) {
    const k = `${hash}/${page}`;
    if (!this.infos.has(k)) {
      const p = this.get(`/api/v1/mipmaps/${encodeURIComponent(hash)}?page=${page}`).then((r) => r.json());
      p.catch(() => this.infos.delete(k)); // a failure is retried on the next draw
      this.infos.set(k, p);
    }
    return this.infos.get(k);
  }

  /**
   * pageURL answers a blob: URL of page (from 0) at the smallest level
   * whose long side still covers `want` pixels, and the page's info.
   */
  async pageURL(hash, page, want) {
    const info = await this.info(hash, page);
    const long = Math.max(num(info.resolution && info.resolution.width, 1), num(info.resolution && info.resolution.height, 1));
    let level = 0;
    while (level < num(info.max_level, 0) && long / 2 ** (level + 1) >= want) level++;
    const k = `${hash}/${page}/${level}`;
    if (!this.urls.has(k)) {
      const p = this.get(`/api/v1/mipmaps/${encodeURIComponent(hash)}/${level}?page=${page}`)
        .then((r) => r.blob()).then((b) => URL.createObjectURL(b));
      p.catch(() => this.urls.delete(k));
      this.urls.set(k, p);
    }
    return { url: await this.urls.get(k), info, level };
  }

  dispose() {
    for (const p of this.urls.values()) p.then((u) => URL.revokeObjectURL(u), () => {});
    this.urls.clear();
    this.infos.clear();
  }
}

// ------------------------------------------------------------ drawing

/**
 * drawMedia fills el with widget w (a Pdf, Video or Browser). view is the
 * CanvasView: id, widgets, canEdit, edit(), patchRaw() and mediaCache.
 */
export function drawMedia(view, el, w) {
  switch (w.widget_type) {
    case 'Pdf': drawPdf(view, el, w); break;
    case 'Video': drawVideo(view, el, w); break;
    case 'Browser': drawBrowser(el, w); break;
  }
}

function caption(w, fallback) {
  return w.title || w.original_filename || fallback;
}

function drawPdf(view, el, w) {
  const index = Math.max(1, Math.round(num(w.index, 1)));
  let parts = el.mediaParts;
  if (!parts || parts.kind !== 'Pdf') {
    const img = h('img.pdf-page', { alt: '', draggable: false });
    const status = h('div.media-status', 'Preparing the page…');
    const label = h('span.pdf-pageno');
    const prev = h('button.media-btn.pdf-prev', { type: 'button', title: 'Previous page', 'aria-label': 'Previous page' }, '‹');
    const next = h('button.media-btn.pdf-next', { type: 'button', title: 'Next page', 'aria-label': 'Next page' }, '›');
    const title = h('span.media-title');
    const bar = h('div.media-bar', icon('doc'), title, h('span.spacer'), prev, label, next);
    parts = { kind: 'Pdf', img, status, label, prev, next, title, pages: 0 };
    const turn = (d) => {
      const cur = view.widgets.get(el.dataset.id);
      if (!cur || !view.canEdit) return;
      const at = Math.max(1, Math.round(num(cur.index, 1)));
      const to = at + d;
      if (to < 1 || (parts.pages && to > parts.pages)) return;
      view.edit(d > 0 ? 'Next page' : 'Previous page', [{ w: cur, body: { index: to } }]);
    };
    prev.addEventListener('click', () => turn(-1));
    next.addEventListener('click', () => turn(1));
    img.addEventListener('load', () => { el.classList.add('loaded'); status.hidden = true; });
    el.replaceChildren(h('div.pdf-sheet', img, status), bar);
    el.mediaParts = parts;
  }
  parts.title.textContent = caption(w, 'PDF');
  el.dataset.index = String(index);
  const setNav = () => {
    parts.label.textContent = parts.pages ? `${index} / ${parts.pages}` : String(index);
    parts.prev.disabled = !view.canEdit || index <= 1;
    parts.next.disabled = !view.canEdit || !parts.pages || index >= parts.pages;
  };
  setNav();
  if (!w.hash) {
    // The hash is filled in after the upload; its change redraws the widget.
    parts.status.hidden = false;
    parts.status.textContent = 'Preparing the page…';
    return;
  }
  const want = Math.min(2048, Math.max(num(w.size && w.size.width, 400), num(w.size && w.size.height, 400)) * Math.min(2, window.devicePixelRatio || 1));
  const key = `${w.hash}/${index}`;
  parts.want = key;
  view.mediaCache.pageURL(w.hash, index - 1, want).then(({ url, info }) => {
    if (parts.want !== key) return; // a later page was asked for
    parts.pages = num(info.pages, 0);
    setNav();
    if (parts.img.getAttribute('src') !== url) {
      parts.img.alt = `${caption(w, 'PDF')}, page ${index}`;
      parts.img.setAttribute('src', url);
    }
    el.dataset.pages = String(parts.pages);
    el.dataset.shownPage = String(index);
  }, (e) => {
    if (parts.want !== key) return;
    parts.status.hidden = false;
    parts.status.textContent = e.status === 503 ? 'The server is busy; the page will show on the next change.' : 'This page could not be shown: ' + e.message;
  });
}

function drawVideo(view, el, w) {
  let parts = el.mediaParts;
  const src = `/api/v1/canvases/${encodeURIComponent(view.id)}/videos/${encodeURIComponent(w.id)}/download?v=${encodeURIComponent(w.hash || '')}`;
  if (!parts || parts.kind !== 'Video') {
    const video = h('video.video-el', { preload: 'metadata', playsinline: true, disablepictureinpicture: true });
    const status = h('div.media-status', { hidden: true });
    const play = h('button.media-btn.video-play', { type: 'button', title: 'Play', 'aria-label': 'Play' });
    const sound = h('button.media-btn.video-sound', { type: 'button', title: 'Mute', 'aria-label': 'Mute' });
    glyph(play, 'play');
    glyph(sound, 'sound');
    const time = h('span.video-time', '0:00');
    const title = h('span.media-title');
    const bar = h('div.media-bar', play, title, h('span.spacer'), time, sound);
    parts = { kind: 'Video', video, status, play, sound, time, title };
    // save stores a play, pause or end; following the stored state (below)
    // fires the same events, which then match it and store nothing.
    const save = (state) => {
      const cur = view.widgets.get(el.dataset.id);
      if (!cur || !view.canEdit) return;
      const pos = Math.round(video.currentTime * 1000) / 1000;
      if (cur.playback_state === state && (state !== 'PAUSED' || Math.abs(num(cur.playback_position) - pos) < 0.5)) return;
      view.patchRaw(cur, { playback_state: state, playback_position: pos });
    };
    play.addEventListener('click', () => {
      if (video.paused || video.ended) video.play().catch((e) => { status.hidden = false; status.textContent = 'Cannot play: ' + e.message; });
      else video.pause();
    });
    sound.addEventListener('click', () => {
      video.muted = !video.muted;
      glyph(sound, video.muted ? 'muted' : 'sound');
      sound.title = video.muted ? 'Unmute' : 'Mute';
    });
    video.addEventListener('play', () => { glyph(play, 'pause'); play.title = 'Pause'; save('PLAYING'); });
    video.addEventListener('pause', () => { glyph(play, 'play'); play.title = 'Play'; if (!video.ended) save('PAUSED'); });
    video.addEventListener('ended', () => { glyph(play, 'play'); save('STOPPED'); });
    video.addEventListener('timeupdate', () => { time.textContent = clock(video.currentTime) + (isFinite(video.duration) ? ' / ' + clock(video.duration) : ''); });
    video.addEventListener('loadeddata', () => el.classList.add('loaded'));
    video.addEventListener('error', () => {
      status.hidden = false;
      status.replaceChildren('This browser cannot play this video. ', h('a', { href: src, download: '' }, 'Download it'));
    });
    el.replaceChildren(h('div.video-frame', video, status), bar);
    el.mediaParts = parts;
  }
  parts.title.textContent = caption(w, 'Video');
  if (parts.video.getAttribute('src') !== src) parts.video.setAttribute('src', src);
  el.dataset.state = w.playback_state || 'STOPPED';
  // Follow the stored state (another viewer's play or pause, or ours coming back).
  const v = parts.video;
  const pos = num(w.playback_position);
  if (w.playback_state === 'PLAYING') {
    if (v.paused) {
      if (Math.abs(v.currentTime - pos) > 1.5) v.currentTime = pos;
      // A page the user has not touched may only play muted.
      v.play().catch(() => { v.muted = true; glyph(parts.sound, 'muted'); return v.play(); }).catch(() => { /* the button still works */ });
    }
  } else {
    if (!v.paused) v.pause();
    const to = w.playback_state === 'STOPPED' ? 0 : pos;
    if (Math.abs(v.currentTime - to) > 0.25) v.currentTime = to;
  }
}

function clock(s) {
  s = Math.max(0, Math.floor(num(s)));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** safeURL answers url when it is an absolute http(s) URL, else ''. */
export function safeURL(url) {
  try {
    const u = new URL(String(url || ''));
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '';
  } catch { return ''; }
}

function drawBrowser(el, w) {
  const url = safeURL(w.url);
  let host = '';
  try { host = url ? new URL(url).host : ''; } catch { /* none */ }
  const title = w.title || host || 'Web page';
  el.replaceChildren(h('div.browser-card',
    h('div.browser-top', h('span.browser-dots', h('span'), h('span'), h('span')), h('span.browser-host', host || 'no address')),
    h('div.browser-body',
      h('div.browser-title', title),
      url ? h('div.browser-url', url) : h('div.browser-url.muted', 'This browser widget has no address.'),
      url ? h('a.btn.small.browser-open', { href: url, target: '_blank', rel: 'noopener noreferrer', referrerpolicy: 'no-referrer' }, 'Open in a new tab ↗') : null)));
  el.dataset.url = url;
}

// ------------------------------------------------------------ thumbnails

/**
 * Thumbnails shows each canvas's server preview (GET
 * /api/v1/canvases/:id/preview) on the list. Each image is kept with its
 * ETag and revalidated (If-None-Match; 304 keeps it) when the canvas's
 * modified_at moves; an empty canvas (404) gets a placeholder.
 */
export class Thumbnails {
  constructor() {
    this.byId = new Map(); // canvas id -> {etag, url, empty, modified, pending, token}
  }

  /** stale makes the next node() of every canvas revalidate its image (a new list page). */
  stale() {
    for (const ent of this.byId.values()) ent.stale = true;
  }

  /** node answers the card's preview content for canvas c. */
  node(c) {
    const box = h('span.thumb', { dataset: { state: 'loading' } });
    const ent = this.byId.get(c.id);
    if (ent && ent.token === getToken()) show(box, ent);
    if (!ent || ent.stale || ent.modified !== c.modified_at || ent.token !== getToken()) this.load(c, box);
    else if (ent.pending) ent.pending.then(() => show(box, this.byId.get(c.id)));
    return box;
  }

  load(c, box) {
    const path = `/api/v1/canvases/${c.id}/preview`;
    const prev = this.byId.get(c.id);
    const token = getToken();
    const headers = { ...authHeaders(path) };
    if (prev && prev.etag && prev.token === token) headers['If-None-Match'] = prev.etag;
    const ent = { ...(prev && prev.token === token ? prev : {}), modified: c.modified_at, token, stale: false };
    ent.pending = (async () => {
      try {
        const res = await fetch(path, { headers, credentials: 'same-origin', cache: 'no-store' });
        if (res.status === 304 && ent.url) return;
        if (res.status === 404) {
          if (ent.url) URL.revokeObjectURL(ent.url);
          Object.assign(ent, { url: '', etag: '', empty: true, failed: false });
          return;
        }
        if (!res.ok) { ent.failed = true; return; }
        const blob = await res.blob();
        if (ent.url) URL.revokeObjectURL(ent.url);
        Object.assign(ent, { url: URL.createObjectURL(blob), etag: res.headers.get('ETag') || '', empty: false, failed: false });
      } catch {
        ent.failed = true;
      }
    })();
    this.byId.set(c.id, ent);
    ent.pending.then(() => { ent.pending = null; show(box, ent); });
  }
}

function show(box, ent) {
  if (!ent || ent.pending) return;
  if (ent.url) {
    let img = box.querySelector('img');
    if (!img) {
      img = h('img.thumb-img', { alt: '', draggable: false });
      box.replaceChildren(img);
    }
    if (img.getAttribute('src') !== ent.url) img.setAttribute('src', ent.url);
    box.dataset.state = 'image';
    return;
  }
  box.dataset.state = ent.empty ? 'empty' : 'failed';
  box.replaceChildren(h('span.thumb-empty', icon('grid'), h('span', ent.empty ? 'Empty canvas' : 'No preview')));
}
