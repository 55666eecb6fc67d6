/**
 * PLACEHOLDER for password escrow (issue 12). The escrow helper adds here: reveal the current password
 * of an account with a reason (shown once, like a generated password, through the same secret panel as
 * the change dialog), the rotation schedule, and the last / next rotation per account. The server side
 * starts in controller/web/routes/escrow-routes.ts.
 */
import { ApiError } from '../api';
import type { App, Page } from '../app';
import { h, replace } from '../dom';

export const renderEscrow: Page = (app: App, main: HTMLElement) => {
  const status = h('p', { id: 'escrow-status', role: 'status' }, 'Checking…');
  replace(main,
    h('div', { class: 'page-head' }, h('h1', null, 'Password escrow')),
    h('section', { class: 'card placeholder', 'aria-label': 'Password escrow' },
      h('p', null, 'Escrowed passwords, audited reveals and scheduled rotation will appear here.'),
      status),
  );
  app.api.get<{ available: boolean; message?: string }>('/api/escrow/status').then(
    (r) => {
      status.textContent = r.available ? 'Password escrow is enabled on this controller.' : `Not available yet: ${r.message ?? ''}`;
    },
    (e: unknown) => {
      status.textContent = e instanceof ApiError ? e.toString() : 'Cannot read the escrow status.';
    },
  );
};
