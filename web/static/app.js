// app.js: start-up, routing and the two simple pages (sign-in and the
// canvas list). The canvas view lives in canvas.js.
//
// Routes: /            canvas list (or sign-in)
//         /c/<id>      one canvas
// A token link (/#token=XYZ or /c/<id>#token=XYZ) signs in with that token.

import { api, getToken, setToken, tokenSource, ApiError } from './api.js';
import { h, icon, toast, modal, confirmDialog, promptDialog, initials, timeAgo } from './ui.js';
import { CanvasView } from './canvas.js';
import { shareDialog as openShare } from './share.js';
import { Thumbnails } from './media.js';

const app = document.getElementById('app');
const session = { user: null, linkError: '' };
// A token as the server issues it (a link cut or changed when pasted has other characters).
const TOKEN_CHARS = /^[A-Za-z0-9._~-]+$/;
let current = null; // the mounted page, with an optional unmount()
// thumbs keeps the canvas list's preview images (with their ETags) across visits.
const thumbs = new Thumbnails();

// Browser tests read the client's state through window.__canvasd. It exists
// only on a page the server marked for them (server.WithWebProbe).
if (document.documentElement.dataset.probe === '1') window.__canvasd = window.__canvasd || {};

/**
 * linkToken finds the token of a token link: #token=… (or ?token=…, as
 * some mail clients rewrite it). It answers {token} or {error} or null.
 */
export function linkToken(url) {
  let u;
  try { u = new URL(url, location.origin); } catch { return { error: 'That is not a link.' }; }
  const m = /(?:^#|&)token=([^&]*)/.exec(u.hash) || /(?:^\?|&)token=([^&]*)/.exec(u.search);
  if (!m) return null;
  let t;
  try { t = decodeURIComponent(m[1]).trim(); } catch { t = ''; }
  if (!TOKEN_CHARS.test(t)) {
    return { error: 'This link\'s sign-in token is incomplete or damaged (links are often cut or changed when pasted). Copy the whole link again, or ask for a new one.' };
  }
  return { token: t, path: u.pathname };
}

const BAD_TOKEN = 'This link\'s sign-in token is not valid: it may have expired or been revoked, or the link was cut short when it was pasted. Ask for a new link, or sign in.';

/** signInWithLink signs in with a link's token; answers true, or sets session.linkError. */
async function signInWithLink(lt) {
  session.linkError = '';
  if (!lt) return false;
  if (lt.error) { session.linkError = lt.error; return false; }
  try {
    const r = await api.loginToken(lt.token);
    setToken(lt.token, 'link');
    session.user = r.user;
    return true;
  } catch (e) {
    session.linkError = e instanceof ApiError && e.status === 401 ? BAD_TOKEN : 'Could not check the link: ' + e.message;
    return false;
  }
}

async function start() {
  const lt = linkToken(location.href);
  if (lt) {
    // The token leaves the address bar (and the history) at once.
    const u = new URL(location.href);
    u.searchParams.delete('token');
    history.replaceState(null, '', u.pathname + u.search);
    if (await signInWithLink(lt)) {
      window.addEventListener('popstate', route);
      route();
      return;
    }
    toast(session.linkError, 'error', 10000);
  }
  if (getToken() && !session.user) {
    try {
      const r = await api.loginToken(getToken());
      session.user = r.user;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setToken('');
        session.linkError = 'You were signed out: your session ended (its token expired or was revoked). Sign in again, or open a new link.';
      } else {
        toast(e.message, 'error');
      }
    }
  }
  window.addEventListener('popstate', route);
  route();
}

export function navigate(path) {
  if (location.pathname !== path) history.pushState(null, '', path);
  route();
}

function mount(page) {
  if (current && current.unmount) current.unmount();
  current = page;
  app.replaceChildren(page.node);
  if (page.mounted) page.mounted();
}

function route() {
  const cm = /^\/c\/([\w-]+)\/?$/.exec(location.pathname);
  if (cm) {
    mount(new CanvasView(cm[1], { session, navigate, signOut, userMenu, shareDialog, signInPage: () => mount(loginPage(location.pathname)) }));
    return;
  }
  if (!session.user) {
    mount(loginPage('/'));
    return;
  }
  mount(listPage());
}

async function signOut() {
  // A sign-in token is revoked; an access token from a link stays valid
  // (it may be shared with scripts) and is only forgotten in this browser.
  if (tokenSource() === 'login' || !getToken()) {
    try { await api.logout(); } catch { /* already signed out */ }
  }
  setToken('');
  session.user = null;
  navigate('/');
}

function brand() {
  return h('a.brand', { href: '/', onclick: (e) => { e.preventDefault(); navigate('/'); } },
    h('span.logo', { 'aria-hidden': 'true' }), h('span', 'canvasd'));
}

export function userMenu() {
  if (!session.user) return h('a.btn.ghost', { href: '/', onclick: (e) => { e.preventDefault(); navigate('/'); } }, 'Sign in');
  return h('div.user',
    h('span.avatar', { title: session.user.email }, initials(session.user.name)),
    h('span.user-name', session.user.name),
    h('button.icon-btn', { type: 'button', title: 'Sign out', 'aria-label': 'Sign out', onclick: signOut }, icon('logout')));
}

function loginPage(next) {
  const err = h('p.form-error', { role: 'alert' });
  const linkErr = h('p.form-error#link-error', { role: 'alert', hidden: !session.linkError }, session.linkError);
  const pasted = h('input.input#token-link', { type: 'url', placeholder: 'Paste a token link', 'aria-label': 'Token link', autocomplete: 'off' });
  const openLink = async (e) => {
    e.preventDefault();
    const v = pasted.value.trim();
    const lt = linkToken(v) || { error: v ? 'This link has no sign-in token: paste the whole link you were sent (it contains #token=…).' : 'Paste the link you were sent.' };
    if (await signInWithLink(lt)) {
      const p = lt.path && /^\/c\/[\w-]+\/?$/.test(lt.path) ? lt.path : next;
      navigate(p && p !== '/' ? p : '/');
      return;
    }
    linkErr.textContent = session.linkError;
    linkErr.hidden = false;
  };
  const email = h('input.input#login-email', { type: 'email', autocomplete: 'username', required: true, placeholder: 'you@example.com' });
  const password = h('input.input#login-password', { type: 'password', autocomplete: 'current-password', required: true, placeholder: '••••••••' });
  const submit = h('button.btn.primary.block#login-submit', { type: 'submit' }, 'Sign in');
  const form = h('form.login-card', {
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      submit.disabled = true;
      try {
        const r = await api.login(email.value.trim(), password.value);
        setToken(r.token, 'login');
        session.user = r.user;
        if (next && next !== '/') navigate(next); else navigate('/');
      } catch (ex) {
        err.textContent = ex.message;
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('div.login-brand', h('span.logo.big', { 'aria-hidden': 'true' })),
  h('h1', 'Sign in to canvasd'),
  h('p.muted', 'Work on canvases together, live.'),
  h('label.field', h('span', 'Email'), email),
  h('label.field', h('span', 'Password'), password),
  err,
  submit,
  h('p.hint', 'Have a token link? Open it, or paste it here:'),
  h('div.row.token-row', pasted, h('button.btn#token-link-open', { type: 'button', onclick: openLink }, 'Open')),
  linkErr);
  pasted.addEventListener('keydown', (e) => { if (e.key === 'Enter') openLink(e); });
  return { node: h('main.login-page', form) };
}

function listPage() {
  thumbs.stale(); // each visit revalidates the thumbnails (If-None-Match)
  const grid = h('div.canvas-grid', { id: 'canvas-grid' }, h('p.muted', 'Loading canvases…'));
  const node = h('div.page',
    h('header.topbar', brand(), h('div.spacer'), userMenu()),
    h('main.list-main',
      h('div.list-head',
        h('div', h('h1', 'Canvases'), h('p.muted', 'Everything you own or can see.')),
        h('button.btn.primary#new-canvas', { type: 'button', onclick: create }, icon('plus'), 'New canvas')),
      grid));

  async function load() {
    try {
      const list = (await api.canvases()).filter((c) => !c.in_trash);
      list.sort((a, b) => String(b.modified_at).localeCompare(String(a.modified_at)));
      if (!list.length) {
        grid.replaceChildren(h('div.empty',
          h('div.empty-art', icon('grid')),
          h('h2', 'No canvases yet'),
          h('p.muted', 'Create one and invite others with a link.'),
          h('button.btn.primary', { type: 'button', onclick: create }, 'Create a canvas')));
        return;
      }
      grid.replaceChildren(...list.map(card));
    } catch (e) {
      grid.replaceChildren(h('p.form-error', e.message));
    }
  }

  function card(c) {
    const owner = c.access === 'owner';
    const canEdit = owner || c.access === 'edit';
    const open = () => navigate('/c/' + c.id);
    return h('article.canvas-card', { dataset: { id: c.id } },
      h('button.card-preview', { type: 'button', onclick: open, 'aria-label': 'Open ' + c.name },
        thumbs.node(c)),
      h('div.card-body',
        h('div.card-title',
          h('a.card-name', { href: '/c/' + c.id, onclick: (e) => { e.preventDefault(); open(); } }, c.name),
          h('span.badge.' + c.access, c.access === 'view' ? 'view only' : c.access)),
        h('p.muted.small', 'Edited ' + timeAgo(c.modified_at)),
        h('div.card-actions',
          canEdit ? h('button.btn.small.ghost', { type: 'button', dataset: { action: 'rename' }, onclick: () => rename(c) }, icon('edit'), 'Rename') : null,
          owner ? h('button.btn.small.ghost', { type: 'button', dataset: { action: 'share' }, onclick: () => shareDialog(c) }, icon('share'), 'Share') : null,
          h('span.spacer'),
          owner ? h('button.icon-btn.danger-text', { type: 'button', dataset: { action: 'delete' }, title: 'Delete', 'aria-label': 'Delete ' + c.name, onclick: () => remove(c) }, icon('trash')) : null)));
  }

  async function create() {
    const name = await promptDialog('New canvas', 'Name', 'Untitled canvas', 'Create');
    if (name === null) return;
    try {
      const c = await api.createCanvas(name || 'Untitled canvas');
      navigate('/c/' + c.id);
    } catch (e) { toast(e.message, 'error'); }
  }

  async function rename(c) {
    const name = await promptDialog('Rename canvas', 'Name', c.name);
    if (!name) return;
    try { await api.renameCanvas(c.id, name); load(); } catch (e) { toast(e.message, 'error'); }
  }

  async function remove(c) {
    if (!await confirmDialog('Delete canvas?', `“${c.name}” and everything on it will be deleted for everyone.`)) return;
    try { await api.deleteCanvas(c.id); toast('Canvas deleted', 'ok'); load(); } catch (e) { toast(e.message, 'error'); }
  }

  return { node, mounted: load };
}

/** shareDialog opens the Share dialog (share.js) for canvas c. */
export function shareDialog(c) { return openShare(c, session.user); }

start();
