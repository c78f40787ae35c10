import { api } from './api.js';
import { fmtTime, h, label, select, statusLine, table } from './dom.js';
import { roleName, t } from './i18n.js';

const ROLES = ['read', 'operator', 'admin'];
const roleOptions = () => ROLES.map((r) => [r, roleName(r)]);

/**
 * 用户管理 (#/users), an admin's: the accounts people log in with, over the /users API — add one
 * (name, role, initial password), change a role, set a password, remove one after a confirmation.
 * Each change ends that user's sessions (the API does it); the list is read again after each.
 */
export async function usersView({ root, who }) {
  if (who.role !== 'admin') {
    root.replaceChildren(h('h2', {}, t('users')), h('p', { class: 'muted' }, t('users.adminOnly')));
    return {};
  }
  const { message, say } = statusLine();
  const list = h('div', { class: 'users' });
  /** Runs one change, says what happened, and reads the list again. */
  const change = async (fn, done) => {
    try {
      await fn();
      say(done);
      await refresh();
    } catch (err) {
      say(err.message, true);
    }
  };
  const enc = encodeURIComponent;

  const row = (u) => {
    const role = select('role', roleOptions(), u.role);
    role.addEventListener('change', () =>
      change(
        () => api(`/users/${enc(u.name)}/role`, { method: 'PUT', json: { role: role.value } }),
        t('users.roleSet', { name: u.name, role: roleName(role.value) }),
      ),
    );
    const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', size: 14 });
    const setPassword = h(
      'button',
      {
        type: 'button',
        class: 'set-password',
        onclick: () =>
          change(
            () => api(`/users/${enc(u.name)}/password`, { method: 'PUT', json: { password: password.value } }),
            t('users.passwordSet', { name: u.name }),
          ),
      },
      t('users.setPassword'),
    );
    // Removing asks once more in the row itself: a slip of the mouse must not end an account.
    const actions = h('span', { class: 'remove' });
    const ask = () =>
      actions.replaceChildren(
        `${t('users.confirmRemove', { name: u.name })} `,
        h(
          'button',
          {
            type: 'button',
            class: 'confirm-remove',
            onclick: () =>
              change(() => api(`/users/${enc(u.name)}`, { method: 'DELETE' }), t('users.removed', { name: u.name })),
          },
          t('users.confirm'),
        ),
        h('button', { type: 'button', onclick: () => actions.replaceChildren(removeButton) }, t('control.cancel')),
      );
    const removeButton = h('button', { type: 'button', class: 'ask-remove', onclick: ask }, t('users.remove'));
    actions.append(removeButton);
    const scope = u.enterprise ?? u.region ?? t('users.centre');
    return h(
      'tr',
      { 'data-user': u.name },
      h('td', { class: 'name' }, u.name),
      h('td', {}, u.name === who.name ? roleName(u.role) : role),
      h('td', {}, scope),
      h('td', { class: 'time' }, fmtTime(u.createdAt)),
      h('td', { class: 'time' }, fmtTime(u.passwordChangedAt)),
      h('td', {}, password, ' ', setPassword),
      // One's own account is not removed from here: the last admin could lock the centre out.
      h('td', {}, u.name === who.name ? '' : actions),
    );
  };

  const refresh = async () => {
    const users = await api('/users');
    list.replaceChildren(
      table(
        [
          t('login.user'),
          t('users.role'),
          t('users.scope'),
          t('users.created'),
          t('users.passwordChanged'),
          t('login.password'),
          '',
        ],
        users.map(row),
        { class: 'users-table' },
      ),
    );
  };

  const add = h(
    'form',
    { class: 'filters add-user' },
    label(t('login.user'), h('input', { name: 'name', required: true, autocomplete: 'off', size: 16 })),
    label(t('users.role'), select('role', roleOptions(), 'read')),
    label(
      t('users.initialPassword'),
      h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', size: 16 }),
    ),
    h('button', { type: 'submit' }, t('users.add')),
  );
  add.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = { name: add.name.value.trim(), role: add.role.value, password: add.password.value };
    change(
      async () => {
        await api('/users', { method: 'POST', json: body });
        add.reset();
      },
      t('users.added', { name: body.name, role: roleName(body.role) }),
    );
  });

  await refresh();
  root.replaceChildren(h('h2', {}, t('users')), add, message, list);
  // Accounts are not among the live events: nothing to re-read.
  return { concerns: () => false };
}
