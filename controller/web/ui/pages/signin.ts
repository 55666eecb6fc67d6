/**
 * The sign-in page: "Sign in with <provider>" when the controller has an identity provider (a plain link:
 * the browser goes to the provider and comes back signed in), and the API token form unless the config
 * turned it off. The token field is emptied at once. A failed provider sign-in comes back with its code
 * and sentence in the query, shown once and then removed from the address bar.
 */
import type { SessionInfo, SignInOptionsJson } from '../../api-types';
import { ApiError, type Api } from '../api';
import { h, replace } from '../dom';

/** The error a provider sign-in came back with, once (it is removed from the address bar). */
function providerError(): string | undefined {
  const q = new URLSearchParams(location.search);
  const code = q.get('signin_error');
  if (!code) return undefined;
  history.replaceState(null, '', '/');
  return `${q.get('message') ?? 'Sign-in failed.'} (${code})`;
}

export function renderSignIn(api: Api, main: HTMLElement, onSignedIn: (s: SessionInfo) => void, notice?: string): void {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'signin-error' });
  const failed = providerError();
  if (failed) error.textContent = failed;
  const providerBox = h('div', { class: 'signin-provider', id: 'signin-provider', hidden: true });
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
    providerBox,
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
  api.get<SignInOptionsJson>('/api/session/options').then(
    (o) => {
      if (o.provider) {
        providerBox.append(
          h(
            'a',
            { class: 'button primary', id: 'oidc-signin', href: '/auth/oidc/start' },
            `Sign in with ${o.provider}`,
          ),
        );
        providerBox.hidden = false;
      }
      if (!o.tokenSignIn) {
        for (const el of form.querySelectorAll('label, input, #token-help, button')) (el as HTMLElement).hidden = true;
      }
    },
    () => undefined,
  );
}
