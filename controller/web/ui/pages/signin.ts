/** The sign-in form: an operator API token, checked by the controller; the field is emptied at once. */
import type { SessionInfo } from '../../api-types';
import { ApiError, type Api } from '../api';
import { h, replace } from '../dom';

export function renderSignIn(api: Api, main: HTMLElement, onSignedIn: (s: SessionInfo) => void, notice?: string): void {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'signin-error' });
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help signin-error',
    placeholder: 'fpt_…',
  });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin', novalidate: true, 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to fleetpass'),
    notice ? h('p', { class: 'notice' }, notice) : null,
    h('label', { for: 'token' }, 'Operator API token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'help' },
      'Paste your API token. The first one is printed by ',
      h('code', null, 'fleetpass-controller bootstrap-admin --name <you>'),
      ' on the controller host; later ones come from an admin (',
      h('code', null, 'fleetpass tokens create'),
      ').',
    ),
    error,
    button,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    input.value = '';
    if (!token) {
      error.textContent = 'Paste your API token first.';
      input.focus();
      return;
    }
    button.disabled = true;
    error.textContent = '';
    api.send<SessionInfo>('POST', '/api/session', { token }).then(
      (s) => onSignedIn(s),
      (e: unknown) => {
        button.disabled = false;
        error.textContent = e instanceof ApiError ? `${e.message} (${e.code})` : 'Sign-in failed.';
        input.focus();
      },
    );
  });
  replace(main, form);
  input.focus();
}
