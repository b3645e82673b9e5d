// app.js: start-up, routing and the two simple pages (sign-in and the
// canvas list). The canvas view lives in canvas.js.
//
// Routes: /            canvas list (or sign-in)
//         /c/<id>      one canvas
// A token link (/#token=XYZ or /c/<id>#token=XYZ) signs in with that token.

import { api, getToken, setToken, tokenSource, ApiError } from './api.js';
import { h, icon, toast, modal, confirmDialog, promptDialog, initials, timeAgo } from './ui.js';
import { CanvasView } from './canvas.js';

const app = document.getElementById('app');
const session = { user: null };
let current = null; // the mounted page, with an optional unmount()

window.__canvasd = window.__canvasd || {};

async function start() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    setToken(decodeURIComponent(m[1]), 'link');
    history.replaceState(null, '', location.pathname + location.search);
  }
  if (getToken()) {
    try {
      const r = await api.loginToken(getToken());
      session.user = r.user;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setToken('');
      else toast(e.message, 'error');
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
  h('p.hint', 'Have a token link? Open it and you are signed in.'));
  return { node: h('main.login-page', form) };
}

function listPage() {
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
        h('span.preview-shape.a'), h('span.preview-shape.b'), h('span.preview-shape.c')),
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

/** shareDialog sets a canvas's link permission and shows its link. */
export async function shareDialog(c) {
  let perm = 'none';
  try { perm = (await api.permissions(c.id)).link_permission || 'none'; } catch (e) { toast(e.message, 'error'); return; }
  const link = `${location.origin}/c/${c.id}`;
  const linkInput = h('input.input.mono', { type: 'text', readOnly: true, value: link, 'aria-label': 'Canvas link' });
  const options = [
    ['none', 'Only people with access', 'Invited users and admins.'],
    ['view', 'Anyone with the link can view', 'They see every change live but cannot edit.'],
    ['edit', 'Anyone with the link can edit', 'They can add, move and delete.'],
  ];
  const radios = options.map(([v, title, sub]) => h('label.radio-card',
    h('input', { type: 'radio', name: 'link-perm', value: v, checked: v === perm }),
    h('span', h('strong', title), h('span.muted.small', sub))));
  const body = h('div.share',
    h('div.radio-list', radios),
    h('label.field', h('span', 'Link'), h('div.row', linkInput,
      h('button.btn', { type: 'button', onclick: () => { linkInput.select(); navigator.clipboard?.writeText(link).then(() => toast('Link copied', 'ok'), () => {}); } }, 'Copy'))));
  modal({
    title: `Share “${c.name}”`, body,
    actions: [
      { label: 'Cancel', onClick: (close) => close() },
      {
        label: 'Save', primary: true, id: 'share-save', onClick: async (close) => {
          const v = body.querySelector('input[name=link-perm]:checked').value;
          try { await api.setLinkPermission(c.id, v); toast('Sharing updated', 'ok'); close(); } catch (e) { toast(e.message, 'error'); }
        },
      },
    ],
  });
}

start();
