// tools.js: the image operations of the canvas view: re-crop against the
// full-page source render, uncrop (extend the image), and batch digitize
// with live per-element progress from the SSE stream.

import { api, fetchBlobURL, sse, ApiError } from './api.js';
import { h, icon, toast, modal } from './ui.js';

function clamp(v, a, b) { return Math.max(a, Math.min(b, v)); }

function unavailable(e, what) {
  if (e instanceof ApiError && (e.status === 404 || e.status === 405) && /not ?found/i.test(e.message) && !/element|image|widget|canvas/i.test(e.message)) {
    return `${what} is not available on this server yet.`;
  }
  if (e instanceof ApiError && e.status === 401) return `${what} needs you to sign in.`;
  if (e instanceof ApiError && e.status === 403) return `You can only view this canvas, so ${what.toLowerCase()} is not available.`;
  return `${what} failed: ${e.message}`;
}

const pct = (v) => (v * 100).toFixed(1) + '%';

/**
 * openRecrop shows the source render with the current crop box. The box's
 * edges, corners and body can be dragged; Apply posts the new box.
 */
export async function openRecrop(view, wid) {
  const w = view.widgets.get(wid);
  if (!w) return;
  const stage = h('div.recrop-stage', h('div.recrop-loading', h('span.spinner'), 'Loading the source page…'));
  const info = h('div.recrop-info.muted.small');
  const aspect = h('input#recrop-aspect', { type: 'checkbox' });
  const versionsList = h('ol.version-list');
  const body = h('div.recrop',
    h('div.recrop-main', stage, h('div.recrop-foot', info, h('label.check', aspect, h('span', 'Keep the original aspect ratio')))),
    h('aside.recrop-side', h('h3', 'Versions'), versionsList));
  let box = { x: 0, y: 0, width: 1, height: 1 };
  let origBox = null;
  let cur = null; // the version shown when the dialog opened
  let srcURL = null;
  let natural = { w: 0, h: 0 };
  const m = modal({
    title: `Re-crop “${w.title || w.original_filename || 'image'}”`, body, wide: true, className: 'recrop-modal',
    actions: [
      { label: 'Reset', id: 'recrop-reset', onClick: () => { if (origBox) { box = { ...origBox }; draw(); } } },
      { label: 'Cancel', onClick: (close) => close() },
      { label: 'Apply', primary: true, id: 'recrop-apply', onClick: (close) => apply(close) },
    ],
    onClose: () => { if (srcURL) URL.revokeObjectURL(srcURL); },
  });
  m.node.id = 'recrop-modal';

  let versions;
  try {
    const [vs, url] = await Promise.all([
      api.versions(view.id, wid),
      fetchBlobURL(`/api/canvas/${view.id}/images/${wid}/source`),
    ]);
    versions = vs.versions || [];
    srcURL = url;
  } catch (e) {
    stage.replaceChildren(h('div.recrop-error', h('strong', unavailable(e, 'Re-crop')), h('p.muted', 'The image stays as it is.')));
    return;
  }
  cur = versions.length ? versions[versions.length - 1] : null;
  if (cur && cur.bbox) box = { ...cur.bbox };
  if (versions.length && versions[0].bbox) origBox = { ...versions[0].bbox };
  versionsList.replaceChildren(...versions.slice().reverse().map((v) => h('li',
    h('button.version' + (v === cur ? '.current' : ''), {
      type: 'button', disabled: !v.bbox,
      onclick: () => { if (v.bbox) { box = { ...v.bbox }; draw(); } },
    },
    h('strong', v.version === 0 ? 'Original' : `Version ${v.version}`),
    h('span.muted.small', [v.author, v.created_at ? new Date(v.created_at).toLocaleString() : ''].filter(Boolean).join(' · '))))));

  const img = h('img.recrop-img', { src: srcURL, alt: 'Source page', draggable: false });
  const frame = h('div.recrop-box#recrop-box',
    ...['n', 's', 'e', 'w', 'nw', 'ne', 'sw', 'se'].map((k) => h('span.rh.rh-' + k, { dataset: { edge: k } })));
  const shade = h('div.recrop-shade');
  const canvasBox = h('div.recrop-canvas', img, shade, frame);
  stage.replaceChildren(canvasBox);
  await new Promise((res) => { if (img.complete) res(); else { img.onload = res; img.onerror = res; } });
  natural = { w: img.naturalWidth, h: img.naturalHeight };

  function draw() {
    frame.style.left = pct(box.x);
    frame.style.top = pct(box.y);
    frame.style.width = pct(box.width);
    frame.style.height = pct(box.height);
    shade.style.clipPath = `polygon(0 0, 100% 0, 100% 100%, 0 100%, 0 0, ${pct(box.x)} ${pct(box.y)}, ${pct(box.x)} ${pct(box.y + box.height)}, ${pct(box.x + box.width)} ${pct(box.y + box.height)}, ${pct(box.x + box.width)} ${pct(box.y)}, ${pct(box.x)} ${pct(box.y)})`;
    const pw = Math.round(box.width * natural.w);
    const ph = Math.round(box.height * natural.h);
    info.textContent = `x ${pct(box.x)} · y ${pct(box.y)} · ${pct(box.width)} × ${pct(box.height)} of the page · ${pw} × ${ph} px`;
    frame.dataset.box = JSON.stringify(box);
  }
  draw();

  let drag = null;
  canvasBox.addEventListener('pointerdown', (e) => {
    const edge = e.target.closest('.rh') ? e.target.dataset.edge : e.target.closest('.recrop-box') ? 'move' : null;
    if (!edge) return;
    e.preventDefault();
    canvasBox.setPointerCapture(e.pointerId);
    const r = canvasBox.getBoundingClientRect();
    drag = { edge, x: e.clientX, y: e.clientY, box0: { ...box }, r };
  });
  canvasBox.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const dx = (e.clientX - drag.x) / drag.r.width;
    const dy = (e.clientY - drag.y) / drag.r.height;
    const b = drag.box0;
    let x0 = b.x, y0 = b.y, x1 = b.x + b.width, y1 = b.y + b.height;
    const min = 0.01;
    if (drag.edge === 'move') {
      const nx = clamp(b.x + dx, 0, 1 - b.width);
      const ny = clamp(b.y + dy, 0, 1 - b.height);
      box = { x: nx, y: ny, width: b.width, height: b.height };
      draw();
      return;
    }
    if (drag.edge.includes('w')) x0 = clamp(b.x + dx, 0, x1 - min);
    if (drag.edge.includes('e')) x1 = clamp(b.x + b.width + dx, x0 + min, 1);
    if (drag.edge.includes('n')) y0 = clamp(b.y + dy, 0, y1 - min);
    if (drag.edge.includes('s')) y1 = clamp(b.y + b.height + dy, y0 + min, 1);
    if (aspect.checked && drag.edge.length === 2 && b.width > 0 && b.height > 0) {
      // Corner drag with the aspect kept: follow the larger change.
      const ratio = (b.width * natural.w) / (b.height * natural.h);
      let wpx = (x1 - x0) * natural.w;
      let hpx = (y1 - y0) * natural.h;
      if (wpx / hpx > ratio) hpx = wpx / ratio; else wpx = hpx * ratio;
      const nw = wpx / natural.w;
      const nh = hpx / natural.h;
      if (drag.edge.includes('w')) x0 = x1 - nw; else x1 = x0 + nw;
      if (drag.edge.includes('n')) y0 = y1 - nh; else y1 = y0 + nh;
      if (x0 < 0 || y0 < 0 || x1 > 1 || y1 > 1) return;
    }
    box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    draw();
  });
  const end = (e) => { if (drag) { drag = null; if (canvasBox.hasPointerCapture(e.pointerId)) canvasBox.releasePointerCapture(e.pointerId); } };
  canvasBox.addEventListener('pointerup', end);
  canvasBox.addEventListener('pointercancel', end);

  async function apply(close) {
    const btn = m.node.querySelector('#recrop-apply');
    btn.disabled = true;
    const round = (v) => Math.round(v * 1e6) / 1e6;
    const b = { x: round(box.x), y: round(box.y), width: round(box.width), height: round(box.height) };
    const mode = aspect.checked ? 'aspect_locked' : 'freeform';
    try {
      const r = await view.history.track(api.recrop(view.id, wid, b, mode));
      close();
      view.history.track(recordRecrop(view, wid, r.version, cur, b, mode));
      const hint = r.diff_summary && r.diff_summary.hint ? ' ' + r.diff_summary.hint : '';
      toast(`Saved version ${r.version}.${hint}`, 'ok', 6000);
    } catch (e) {
      btn.disabled = false;
      toast(unavailable(e, 'Re-crop'), 'error', 6000);
    }
  }
}

/**
 * recordRecrop puts a re-crop on the undo stack: undo re-crops to the box
 * of the version before it (read again when someone re-cropped in between).
 */
async function recordRecrop(view, wid, version, cur, box, mode) {
  let prev = cur && cur.version === version - 1 ? cur : null;
  if (!prev) {
    try { prev = ((await api.versions(view.id, wid)).versions || []).find((v) => v.version === version - 1) || null; } catch { prev = null; }
  }
  view.history.push('Re-crop', [{
    kind: 'recrop', ref: view.history.ref(wid), at: version,
    prev: prev && prev.bbox ? { box: { ...prev.bbox }, mode: 'freeform' } : null,
    next: { box, mode },
  }]);
}

/** openUncrop extends an image on any side; the server fills the new area. */
export function openUncrop(view, wid) {
  const w = view.widgets.get(wid);
  if (!w) return;
  const field = (id, label) => h('label.field', h('span', label), h('input.input#' + id, { type: 'number', min: '-2000', max: '2000', step: '10', value: '0' }));
  const body = h('div.uncrop',
    h('p.muted', 'Extend the image beyond its edges; the new area is filled to match. Pixels per side, up to 2000; a negative value trims that side.'),
    h('div.uncrop-grid',
      h('div'), field('uncrop-up', 'Top'), h('div'),
      field('uncrop-left', 'Left'), h('div.uncrop-preview', icon('image')), field('uncrop-right', 'Right'),
      h('div'), field('uncrop-down', 'Bottom'), h('div')),
    h('label.field', h('span', 'Seed (optional, for repeatable fills)'), h('input.input#uncrop-seed', { type: 'number', min: '0', max: '100000', step: '1', placeholder: 'random' })));
  modal({
    title: 'Uncrop', body,
    actions: [
      { label: 'Cancel', onClick: (close) => close() },
      {
        label: 'Extend', primary: true, id: 'uncrop-apply', onClick: async (close) => {
          const v = (id) => Math.round(Number(body.querySelector('#' + id).value) || 0);
          const req = { extend_left: v('uncrop-left'), extend_right: v('uncrop-right'), extend_up: v('uncrop-up'), extend_down: v('uncrop-down') };
          const seed = body.querySelector('#uncrop-seed').value;
          if (seed !== '') req.seed = Math.round(Number(seed));
          if (!req.extend_left && !req.extend_right && !req.extend_up && !req.extend_down) { toast('Choose how far to extend at least one side.', 'error'); return; }
          try {
            await api.uncrop(view.id, wid, req);
            close();
            toast('Image extended.', 'ok');
          } catch (e) {
            toast(unavailable(e, 'Uncrop'), 'error', 6000);
          }
        },
      },
    ],
  });
}

/**
 * openDigitize turns selected images into tables (or chart data, or text).
 * Progress comes per element from the SSE stream; results appear on the
 * canvas through the websocket.
 */
export function openDigitize(view, ids) {
  const images = ids.map((id) => view.widgets.get(id)).filter((w) => w && w.widget_type === 'Image').slice(0, 10);
  if (!images.length) { toast('Select one or more images to digitize.', 'error'); return; }
  const type = h('select.input#digitize-type',
    h('option', { value: 'table' }, 'Table'), h('option', { value: 'chart' }, 'Chart data'), h('option', { value: 'text' }, 'Text'));
  const stitch = h('input#digitize-stitch', { type: 'checkbox' });
  const body = h('div.digitize',
    h('p.muted', `${images.length} image${images.length > 1 ? 's' : ''} selected.`),
    h('label.field', h('span', 'Read as'), type),
    images.length > 1 ? h('label.check', stitch, h('span', 'Stitch into one table (pages of the same table)')) : null);
  modal({
    title: 'Digitize', body,
    actions: [
      { label: 'Cancel', onClick: (close) => close() },
      { label: 'Digitize', primary: true, id: 'digitize-start', onClick: (close) => { close(); run(view, images, type.value, stitch.checked); } },
    ],
  });
}

async function run(view, images, kind, stitch) {
  const rows = new Map();
  const noted = new Set();
  const list = h('ul.job-list');
  for (const w of images) {
    const st = h('span.job-state', 'Queued');
    const li = h('li.job', { dataset: { id: w.id, state: 'queued' } }, h('span.job-name', w.title || w.original_filename || 'Image'), st);
    rows.set(w.id, { li, st });
    list.append(li);
  }
  const head = h('div.job-head', h('strong', 'Digitizing'), h('span.muted.small', `${images.length} element${images.length > 1 ? 's' : ''}`));
  const panel = h('div.job-panel#digitize-panel', head, list,
    h('button.icon-btn.close', { type: 'button', 'aria-label': 'Close', onclick: () => panel.remove() }, '×'));
  view.viewport.append(panel);
  // A failure's message: the server sends {code, message}; never show an
  // object as "[object Object]".
  const errorText = (x) => (typeof x === 'string' ? x : (x && typeof x === 'object' && (errorText(x.message) || errorText(x.detail) || errorText(x.code))) || '');
  const set = (id, state, text) => {
    const r = rows.get(id);
    if (!r) return;
    r.li.dataset.state = state;
    r.st.textContent = text;
  };
  const req = {
    elements: images.map((w) => ({ element_id: w.id, element_type: kind, image_url: `${location.origin}${view.imageURL(w)}` })),
    stitch,
  };
  try {
    await sse(`/api/canvas/${view.id}/images/batch-digitize`, req, (name, data) => {
      const id = data && (data.element_id || data.id);
      switch (name) {
        case 'element.started': set(id, 'running', 'Reading…'); break;
        case 'element.completed':
          set(id, 'done', 'Done');
          // Text lands on the canvas as a note beside its image, once per element of this run.
          if (kind === 'text' && !noted.has(id)) { noted.add(id); view.addDigitizedText(id, data.result); }
          break;
        case 'element.failed': set(id, 'failed', (data && (errorText(data.error) || errorText(data.detail) || errorText(data.message))) || 'Failed'); break;
        case 'batch.completed':
          head.querySelector('strong').textContent = 'Digitize finished';
          break;
      }
    });
    head.querySelector('strong').textContent = 'Digitize finished';
    panel.classList.add('finished');
    setTimeout(() => panel.remove(), 8000);
  } catch (e) {
    head.querySelector('strong').textContent = 'Digitize failed';
    panel.classList.add('finished', 'failed');
    list.replaceChildren(h('li.job', { dataset: { state: 'failed' } }, unavailable(e, 'Digitize')));
  }
}
