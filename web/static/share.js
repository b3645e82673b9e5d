// share.js: the Share dialog. It lists who has access to a canvas (the
// Canvus permissions API: GET/POST /api/v1/canvases/:id/permissions), lets
// the owner change or remove each person's role, invite a user by e-mail (or
// name) with a role, and set what the canvas's link allows.
//
// Names come from GET /api/v1/users, which shows e-mail addresses to admins
// only: an e-mail address typed here is sent as is (users[].email) and the
// server finds its account, so anyone allowed to share invites by address.

import { api } from './api.js';
import { h, toast, modal, initials } from './ui.js';

const ROLES = [['view', 'Can view'], ['edit', 'Can edit'], ['owner', 'Owner']];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * findUser resolves what was typed (an e-mail address or a name) to one
 * user, or says why not. meId: the signed-in user, whose own address the
 * server always shows.
 */
export function findUser(users, typed, meId) {
  const q = String(typed || '').trim().toLowerCase();
  if (!q) return { error: 'Type the e-mail address (or name) of the person to invite.' };
  if (EMAIL.test(q)) {
    const hit = users.find((u) => typeof u.email === 'string' && u.email.toLowerCase() === q);
    if (hit) return { user: hit };
    if (!users.some((u) => typeof u.email === 'string' && Number(u.id) !== Number(meId))) {
      return { error: 'This server shows e-mail addresses to admins only: type the person\'s name instead.' };
    }
    return { error: `No user with the e-mail address ${typed.trim()} on this server.` };
  }
  const named = users.filter((u) => String(u.name || '').trim().toLowerCase() === q);
  if (named.length === 1) return { user: named[0] };
  if (named.length > 1) return { error: `${named.length} users are called ${typed.trim()}: use the e-mail address.` };
  return { error: `No user called ${typed.trim()} on this server.` };
}

/** shareDialog opens the Share dialog of canvas c ({id, name}); me is the signed-in user. */
export async function shareDialog(c, me) {
  let perms;
  let users = [];
  try {
    [perms, users] = await Promise.all([
      api.permissions(c.id),
      api.users().catch(() => []), // names only: the list still works without them
    ]);
  } catch (e) {
    toast(e.message, 'error');
    return null;
  }
  const byId = new Map((users || []).map((u) => [Number(u.id), u]));
  const people = h('ul.people#share-people', { 'aria-label': 'People with access' });
  const err = h('p.form-error#share-error', { role: 'alert' });

  const renderPeople = () => {
    const rows = (perms.users || []).filter((p) => p.permission && p.permission !== 'none')
      .sort((a, b) => (a.permission === 'owner' ? -1 : 0) - (b.permission === 'owner' ? -1 : 0) || String(nameOf(a.id)).localeCompare(String(nameOf(b.id))));
    people.replaceChildren(...rows.map((p) => {
      const u = byId.get(Number(p.id));
      const mine = me && Number(me.id) === Number(p.id);
      const role = h('select.input.small.role', { 'aria-label': `Role of ${nameOf(p.id)}`, dataset: { user: String(p.id) } },
        ROLES.map(([v, label]) => h('option', { value: v, selected: v === p.permission }, label)));
      role.addEventListener('change', () => setRole(p.id, role.value));
      return h('li.person', { dataset: { user: String(p.id), role: p.permission } },
        h('span.avatar', initials(nameOf(p.id))),
        h('span.person-name', h('strong', nameOf(p.id) + (mine ? ' (you)' : '')), u && u.email ? h('span.muted.small', u.email) : null),
        role,
        h('button.icon-btn.remove', { type: 'button', title: `Remove ${nameOf(p.id)}`, 'aria-label': `Remove ${nameOf(p.id)}`, onclick: () => setRole(p.id, 'none') }, '×'));
    }));
    if (!rows.length) people.replaceChildren(h('li.muted', 'Only you.'));
  };
  function nameOf(id) {
    const u = byId.get(Number(id));
    return (u && u.name) || `User ${id}`;
  }

  async function post(body) {
    err.textContent = '';
    try {
      perms = await api.setPermissions(c.id, body);
      renderPeople();
      return true;
    } catch (e) {
      err.textContent = e.message;
      renderPeople();
      return false;
    }
  }

  async function setRole(id, role) {
    const before = (perms.users || []).find((p) => Number(p.id) === Number(id));
    if (!await post({ users: [{ id: Number(id), permission: role }] })) return;
    const after = (perms.users || []).find((p) => Number(p.id) === Number(id));
    const now = after ? after.permission : 'none';
    if (now !== role && !(role === 'none' && !after)) {
      err.textContent = `${nameOf(id)} stays ${now === 'owner' ? 'the owner' : now}: the canvas's owner always keeps access.`;
    } else if (role === 'none') {
      toast(`${nameOf(id)} no longer has access.`, 'ok');
    } else if (!before || before.permission !== role) {
      toast(`${nameOf(id)} ${role === 'owner' ? 'is now an owner' : role === 'edit' ? 'can now edit' : 'can now view'}.`, 'ok');
    }
  }

  // Invite: an e-mail address (or a name), and a role.
  const who = h('input.input#share-invite', { type: 'text', placeholder: 'E-mail or name', autocomplete: 'off', list: 'share-people-list', 'aria-label': 'E-mail address or name' });
  const list = h('datalist#share-people-list', (users || []).map((u) => h('option', { value: u.email || u.name })));
  const inviteRole = h('select.input#share-invite-role', { 'aria-label': 'Role' }, ROLES.slice(0, 2).map(([v, label]) => h('option', { value: v, selected: v === 'edit' }, label)));
  const invite = async () => {
    err.textContent = '';
    const typed = who.value.trim();
    if (EMAIL.test(typed)) {
      // The server resolves the address (exact, any case) to its account.
      const before = new Set((perms.users || []).map((p) => Number(p.id)));
      const known = (users || []).find((u) => typeof u.email === 'string' && u.email.toLowerCase() === typed.toLowerCase());
      if (known) {
        const cur = (perms.users || []).find((p) => Number(p.id) === Number(known.id));
        if (cur && cur.permission === 'owner') { err.textContent = `${nameOf(known.id)} is already an owner.`; return; }
      }
      if (await post({ users: [{ email: typed, permission: inviteRole.value }] })) {
        const added = (perms.users || []).find((p) => !before.has(Number(p.id)));
        const label = known ? nameOf(known.id) : added && byId.has(Number(added.id)) ? `${nameOf(added.id)} (${typed})` : typed;
        toast(`${label} ${inviteRole.value === 'edit' ? 'can edit' : 'can view'} “${c.name}”.`, 'ok');
        who.value = '';
      }
      return;
    }
    const r = findUser(users || [], typed, me && me.id);
    if (r.error) { err.textContent = r.error; return; }
    const cur = (perms.users || []).find((p) => Number(p.id) === Number(r.user.id));
    if (cur && cur.permission === 'owner') { err.textContent = `${nameOf(r.user.id)} is already an owner.`; return; }
    if (await post({ users: [{ id: Number(r.user.id), permission: inviteRole.value }] })) {
      toast(`${nameOf(r.user.id)} ${inviteRole.value === 'edit' ? 'can edit' : 'can view'} “${c.name}”.`, 'ok');
      who.value = '';
    }
  };
  const inviteForm = h('form.invite#share-invite-form', { onsubmit: (e) => { e.preventDefault(); invite(); } },
    who, list, inviteRole, h('button.btn.primary#share-invite-btn', { type: 'submit' }, 'Invite'));

  // The link: what anyone who has it may do.
  const link = `${location.origin}/c/${c.id}`;
  const linkInput = h('input.input.mono', { type: 'text', readOnly: true, value: link, 'aria-label': 'Canvas link' });
  const options = [
    ['none', 'Only people with access', 'Invited users and admins.'],
    ['view', 'Anyone with the link can view', 'They see every change live but cannot edit.'],
    ['edit', 'Anyone with the link can edit', 'They can add, move and delete.'],
  ];
  const radios = options.map(([v, title, sub]) => h('label.radio-card',
    h('input', { type: 'radio', name: 'link-perm', value: v, checked: v === (perms.link_permission || 'none') }),
    h('span', h('strong', title), h('span.muted.small', sub))));

  const body = h('div.share',
    h('h3.share-h', 'Invite people'),
    inviteForm,
    err,
    h('h3.share-h', 'People with access'),
    people,
    h('h3.share-h', 'Link'),
    h('div.radio-list', radios),
    h('div.row', linkInput,
      h('button.btn', { type: 'button', onclick: () => { linkInput.select(); navigator.clipboard?.writeText(link).then(() => toast('Link copied', 'ok'), () => {}); } }, 'Copy')));
  renderPeople();
  return modal({
    title: `Share “${c.name}”`, body, className: 'share-modal',
    actions: [
      { label: 'Done', onClick: (close) => close() },
      {
        label: 'Save link setting', primary: true, id: 'share-save', onClick: async (close) => {
          const v = body.querySelector('input[name=link-perm]:checked').value;
          if (await post({ link_permission: v })) { toast('Sharing updated', 'ok'); close(); }
        },
      },
    ],
  });
}
