// api.js: the HTTP side of the client. Canvus routes (/api/v1) take the
// token as Private-Token (the CanvusSession cookie works too); deal-canvas
// routes (/api/canvas) take it as Authorization: Bearer, and accept the
// cookie only for image GETs, so the client always sends the header.

const TOKEN_KEY = 'canvasd.token';
const SOURCE_KEY = 'canvasd.token-source';

// memToken keeps the token for this page when localStorage refused it.
let memToken = '';

export function getToken() {
  try { return localStorage.getItem(TOKEN_KEY) || memToken; } catch { return memToken; }
}

/**
 * setToken stores the session's token. source is "login" for a token the
 * sign-in form created (signing out revokes it) or "link" for an access
 * token from a token link (signing out only forgets it here).
 */
export function setToken(t, source = 'login') {
  memToken = '';
  try {
    if (t) {
      localStorage.setItem(TOKEN_KEY, t);
      localStorage.setItem(SOURCE_KEY, source);
    } else {
      localStorage.removeItem(TOKEN_KEY);
      localStorage.removeItem(SOURCE_KEY);
    }
  } catch { memToken = t || ''; /* private mode: kept for this page only */ }
}

export function tokenSource() {
  try { return localStorage.getItem(SOURCE_KEY) || 'login'; } catch { return 'login'; }
}

/** ApiError carries the HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function messageOf(status, body) {
  if (body && typeof body === 'object') {
    if (typeof body.msg === 'string') return body.msg;
    if (typeof body.detail === 'string') return body.detail;
    if (Array.isArray(body.detail) && body.detail.length) {
      const d = body.detail[0];
      return `${d.msg}${d.loc ? ' (' + d.loc.join('.') + ')' : ''}`;
    }
    if (typeof body.error === 'string') return body.error;
  }
  return `Request failed (${status})`;
}

export function authHeaders(path) {
  const t = getToken();
  if (!t) return {};
  return path.startsWith('/api/v1') ? { 'Private-Token': t } : { 'Authorization': 'Bearer ' + t };
}

/** request sends JSON (or FormData) and returns the decoded JSON answer. */
export async function request(method, path, body) {
  return (await requestMeta(method, path, body)).data;
}

/**
 * requestMeta is request with extra headers, answering {data, version}:
 * version is the ETag as a number (a widget's version), or null.
 */
export async function requestMeta(method, path, body, extra = {}) {
  const headers = { ...authHeaders(path), ...extra };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'Network error: the server cannot be reached');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  const tag = /^(?:W\/)?"?(\d+)"?$/.exec(res.headers.get('ETag') || '');
  const version = tag ? Number(tag[1]) : null;
  if (!res.ok) {
    const err = new ApiError(res.status, messageOf(res.status, data), data);
    err.version = version;
    throw err;
  }
  return { data, version };
}

export const api = {
  login: (email, password) => request('POST', '/api/v1/users/login', { email, password }),
  loginToken: (token) => request('POST', '/api/v1/users/login', { token }),
  logout: () => request('POST', '/api/v1/users/logout', {}),

  canvases: () => request('GET', '/api/v1/canvases'),
  canvas: (id) => request('GET', `/api/v1/canvases/${id}`),
  createCanvas: (name) => request('POST', '/api/v1/canvases', { name }),
  renameCanvas: (id, name) => request('PATCH', `/api/v1/canvases/${id}`, { name }),
  deleteCanvas: (id) => request('DELETE', `/api/v1/canvases/${id}`),
  permissions: (id) => request('GET', `/api/v1/canvases/${id}/permissions`),
  setLinkPermission: (id, p) => request('POST', `/api/v1/canvases/${id}/permissions`, { link_permission: p }),
  setPermissions: (id, body) => request('POST', `/api/v1/canvases/${id}/permissions`, body),
  users: () => request('GET', '/api/v1/users'),

  widgets: (id) => request('GET', `/api/v1/canvases/${id}/widgets`),
  widget: (id, wid) => request('GET', `/api/v1/canvases/${id}/widgets/${wid}`),
  createNote: (id, body) => request('POST', `/api/v1/canvases/${id}/notes`, body),
  createWidget: (id, path, body) => request('POST', `/api/v1/canvases/${id}/${path}`, body),
  patchWidget: (id, w, body) => request('PATCH', `/api/v1/canvases/${id}/${pathOf(w)}/${w.id}`, body),
  // patchWidgetIf is patchWidget with If-Match: the widget's version the
  // change is based on (null: none, last writer wins). Answers {data, version}.
  patchWidgetIf: (id, w, body, version) => requestMeta('PATCH', `/api/v1/canvases/${id}/${pathOf(w)}/${w.id}`, body,
    version == null ? {} : { 'If-Match': `"${version}"` }),
  widgetMeta: (id, wid) => requestMeta('GET', `/api/v1/canvases/${id}/widgets/${wid}`),
  deleteWidget: (id, w) => request('DELETE', `/api/v1/canvases/${id}/${pathOf(w)}/${w.id}`),

  recrop: (id, wid, box, mode) => request('POST', `/api/canvas/${id}/images/${wid}/recrop`, { user_bbox: box, bbox_mode: mode }),
  versions: (id, wid) => request('GET', `/api/canvas/${id}/images/${wid}/versions`),
  uncrop: (id, wid, body) => request('POST', `/api/v1/canvases/${id}/images/${wid}/uncrop`, body),
};

const PATHS = { Note: 'notes', Image: 'images', Anchor: 'anchors', Connector: 'connectors' };

/** pathOf names the typed route of a widget; other types use /widgets. */
export function pathOf(w) { return PATHS[w.widget_type] || 'widgets'; }

/** fetchBlobURL loads a binary with auth headers and returns an object URL. */
export async function fetchBlobURL(path) {
  const res = await fetch(path, { headers: authHeaders(path), credentials: 'same-origin' });
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* binary or empty */ }
    throw new ApiError(res.status, messageOf(res.status, data), data);
  }
  return URL.createObjectURL(await res.blob());
}

/**
 * upload posts a multipart image (or, with route "pdfs" or "videos", a PDF
 * or video) with progress. onProgress gets 0..1. It resolves with the
 * created widget.
 */
export function upload(canvasID, file, meta, onProgress, route = 'images') {
  return new Promise((resolve, reject) => {
    const fd = new FormData();
    fd.append('json', JSON.stringify(meta));
    fd.append('data', file, file.name);
    const xhr = new XMLHttpRequest();
    const path = `/api/v1/canvases/${canvasID}/${route}`;
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(authHeaders(path))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* keep null */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, messageOf(xhr.status, data), data));
    };
    xhr.onerror = () => reject(new ApiError(0, 'Network error during upload'));
    xhr.send(fd);
  });
}

/**
 * sse posts JSON and reads a Server-Sent Events answer, calling onEvent(name,
 * data) for each event. It resolves when the stream ends.
 */
export async function sse(path, body, onEvent, signal) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { ...authHeaders(path), 'Content-Type': 'application/json', 'Accept': 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, messageOf(res.status, data), data);
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i).replace(/^\r?\n\r?\n/, '');
      let name = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (!data.length) continue;
      let parsed = data.join('\n');
      try { parsed = JSON.parse(parsed); } catch { /* plain text */ }
      onEvent(name, parsed);
    }
  }
}
