/**
 * The unlock / reset dialog: one account on one node or on a selection of nodes, a reason required, and
 * for a reset a password the controller generates. The answer shows each generated password ONCE, with
 * a copy button; hiding it or closing the dialog removes it from the page, and it never goes into the
 * URL or browser storage. Privileged accounts go to the approvals queue (the server decides and says
 * so). Progress per node follows the live feed.
 */
import type { LiveEvent, NewRequestBody, NewRequestResult, OperationJson, RequestJson } from '../../api-types';
import { ApiError } from '../api';
import type { App, ChangeTarget } from '../app';
import { h, replace } from '../dom';
import { actionLabel, stateLabel } from '../format';

let counter = 0;

export function openChangeDialog(app: App, target: ChangeTarget): void {
  const uid = `change-${++counter}`;
  const names = target.names ?? {};
  const dialog = h('dialog', { class: 'change-dialog', id: 'change-dialog', 'aria-labelledby': `${uid}-title` });
  const cleanups: Array<() => void> = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const c of cleanups) c();
    dialog.close();
    // Removing the dialog drops every node that ever held a generated password.
    dialog.remove();
  };
  dialog.addEventListener('close', close);
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    close();
  });

  const actionUnlock = h('input', {
    type: 'radio',
    name: `${uid}-action`,
    id: `${uid}-unlock`,
    value: 'unlock',
    props: { checked: target.action !== 'reset_password' },
  });
  const actionReset = h('input', {
    type: 'radio',
    name: `${uid}-action`,
    id: `${uid}-reset`,
    value: 'reset_password',
    props: { checked: target.action === 'reset_password' },
  });
  const account = h('input', {
    id: `${uid}-account`,
    name: 'account',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 32,
    pattern: '[A-Za-z0-9._][A-Za-z0-9._-]*',
    props: { value: target.account ?? '' },
  });
  const backend = h(
    'select',
    { id: `${uid}-backend`, name: 'backend' },
    (['linux', 'ssr', 'lrm'] as const).map((b) =>
      h(
        'option',
        { value: b, props: { selected: (target.backend ?? 'linux') === b } },
        b === 'lrm' ? 'Local Run Manager' : b.toUpperCase() === 'SSR' ? 'SSR' : 'Linux',
      ),
    ),
  );
  const reason = h('input', {
    id: `${uid}-reason`,
    name: 'reason',
    required: true,
    maxlength: 500,
    autocomplete: 'off',
    placeholder: 'ticket number or why',
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary', id: `${uid}-submit` });
  const previewButton = h('button', { type: 'button', id: `${uid}-preview` }, 'Preview');
  const label = () => (actionReset.checked ? 'Reset password' : 'Unlock');
  const syncLabel = () => {
    submit.textContent = target.nodeIds.length > 1 ? `${label()} on ${target.nodeIds.length} nodes` : label();
  };
  actionUnlock.addEventListener('change', syncLabel);
  actionReset.addEventListener('change', syncLabel);
  syncLabel();

  const body = (dryRun: boolean): NewRequestBody => ({
    action: actionReset.checked ? 'reset_password' : 'unlock',
    backend: backend.value as NewRequestBody['backend'],
    account: account.value.trim(),
    nodeIds: target.nodeIds,
    reason: reason.value.trim(),
    dryRun,
  });

  const form = h(
    'form',
    { class: 'change-form', novalidate: true },
    h('h2', { id: `${uid}-title` }, 'Unlock or reset an account'),
    h(
      'fieldset',
      null,
      h('legend', null, 'What'),
      h(
        'div',
        { class: 'radio' },
        actionUnlock,
        h('label', { for: `${uid}-unlock` }, 'Unlock (clear failed logins and the lock)'),
      ),
      h(
        'div',
        { class: 'radio' },
        actionReset,
        h('label', { for: `${uid}-reset` }, 'Reset the password (fleetpass generates a strong one, shown to you once)'),
      ),
    ),
    h(
      'div',
      { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: `${uid}-account` }, 'Account'), account),
      h('div', { class: 'field' }, h('label', { for: `${uid}-backend` }, 'Backend'), backend),
    ),
    h(
      'div',
      { class: 'field' },
      h('span', { class: 'label' }, `Node${target.nodeIds.length === 1 ? '' : `s (${target.nodeIds.length})`}`),
      h(
        'ul',
        { class: 'chips', id: `${uid}-nodes` },
        target.nodeIds.map((id) => h('li', null, names[id] || id)),
      ),
    ),
    h('div', { class: 'field' }, h('label', { for: `${uid}-reason` }, 'Reason (required)'), reason),
    h('p', { class: 'help' }, 'Privileged accounts (root, ilmnadmin, SSR admin) wait for a second person’s approval.'),
    preview,
    error,
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'button', on: { click: close } }, 'Cancel'),
      previewButton,
      submit,
    ),
  );

  function problem(dryRun: boolean): string | undefined {
    if (!account.value.trim()) return 'Name the account.';
    if (!dryRun && !reason.value.trim()) return 'A reason is required (a ticket number or a few words).';
    return undefined;
  }

  previewButton.addEventListener('click', () => {
    const p = problem(true);
    error.textContent = p ?? '';
    if (p) return;
    app.api
      .send<NewRequestResult>('POST', '/api/requests', { ...body(true), reason: reason.value.trim() || 'preview' })
      .then(
        (r) =>
          replace(
            preview,
            h(
              'p',
              null,
              `${r.nodeIds.length} node(s) would be changed. `,
              r.needsApproval ? h('strong', null, 'A second person must approve this.') : 'No approval needed.',
            ),
            r.warnings.length
              ? h(
                  'ul',
                  { class: 'warnings' },
                  r.warnings.map((w) => h('li', null, w)),
                )
              : null,
          ),
        (e: unknown) => {
          error.textContent = e instanceof ApiError ? `${e.message} (${e.code})` : 'The preview failed.';
        },
      );
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = problem(false);
    error.textContent = p ?? '';
    if (p) {
      (reason.value.trim() ? account : reason).focus();
      return;
    }
    submit.disabled = true;
    app.api.send<NewRequestResult>('POST', '/api/requests', body(false)).then(
      (r) => showResult(r),
      (e: unknown) => {
        submit.disabled = false;
        error.textContent = e instanceof ApiError ? `${e.message} (${e.code})` : 'The request failed.';
      },
    );
  });

  function showResult(result: NewRequestResult): void {
    const req = result.request!;
    const rows = new Map<string, HTMLTableRowElement>();
    const stateCell = new Map<string, HTMLTableCellElement>();
    const progress = h(
      'table',
      { id: 'change-progress' },
      h('thead', null, h('tr', null, h('th', null, 'Node'), h('th', null, 'State'), h('th', null, 'Detail'))),
      h(
        'tbody',
        null,
        (req.operations ?? []).map((o) => {
          const cell = h('td', { class: 'op-state', 'data-state': o.state }, stateLabel(o.state));
          const row = h(
            'tr',
            { 'data-node': o.nodeId },
            h('td', null, names[o.nodeId] || o.nodeId),
            cell,
            h('td', { class: 'op-detail' }, o.message || ''),
          );
          rows.set(o.id, row);
          stateCell.set(o.id, cell);
          return row;
        }),
      ),
    );
    const update = (o: OperationJson) => {
      const cell = stateCell.get(o.id);
      if (!cell) return;
      cell.textContent = stateLabel(o.state);
      cell.setAttribute('data-state', o.state);
      const detail = rows.get(o.id)!.querySelector('.op-detail')!;
      detail.textContent =
        [o.errorCode, o.message].filter(Boolean).join(': ') ||
        (o.state === 'succeeded' && o.lockedAfter === false ? 'the account is usable' : '');
    };
    cleanups.push(
      app.live.on((e: LiveEvent) => {
        if (e.type === 'operation' && e.operation.requestId === req.id) update(e.operation);
        if (e.type === 'request' && e.request.id === req.id) status.textContent = statusText(e.request.state);
      }),
    );
    const statusText = (state: string) =>
      state === 'pending_approval' ? 'Waiting for a second person’s approval.' : `${stateLabel(state)}.`;
    const status = h('p', { class: 'status', id: 'change-status', role: 'status' }, statusText(req.state));

    let secrets: HTMLElement | undefined;
    if (result.generatedPasswords.length) {
      secrets = h(
        'section',
        { class: 'secret-panel', id: 'one-time-password', 'aria-labelledby': `${uid}-pw-title` },
        h(
          'h3',
          { id: `${uid}-pw-title` },
          result.generatedPasswords.length === 1 ? 'New password, shown once' : 'New passwords, shown once',
        ),
        h(
          'p',
          null,
          'It is shown here once: copy it into your password manager or hand it over now. (With password escrow on, fleetpass keeps it encrypted; seeing it again is an audited reveal.)',
          result.needsApproval ? ' It takes effect once a second person approves the request.' : '',
        ),
        h(
          'ul',
          { class: 'plain' },
          result.generatedPasswords.map((g) => {
            const value = h('code', { class: 'secret', 'data-node': g.nodeId }, g.password);
            const copy = h(
              'button',
              {
                type: 'button',
                class: 'small copy',
                'aria-label': `Copy the password for ${names[g.nodeId] || g.nodeId}`,
              },
              'Copy',
            );
            copy.addEventListener('click', () => {
              navigator.clipboard.writeText(value.textContent ?? '').then(
                () => {
                  copy.textContent = 'Copied';
                  app.toast('Password copied to the clipboard.', 'ok');
                },
                () => app.toast('The browser did not allow copying; select the text instead.', 'error'),
              );
            });
            return h('li', null, h('span', { class: 'label' }, names[g.nodeId] || g.nodeId), ' ', value, ' ', copy);
          }),
        ),
        h(
          'button',
          { type: 'button', id: 'hide-password', class: 'primary', on: { click: () => hide() } },
          'I have stored it — hide the password',
        ),
      );
    }
    // Drop the only references to the generated passwords: the answer object and the panel.
    result.generatedPasswords = [];
    const hide = () => {
      secrets?.remove();
      secrets = undefined;
      app.toast('The password is gone from this page.', 'info');
      closeButton.focus();
    };
    const closeButton = h('button', { type: 'button', id: 'change-close', on: { click: close } }, 'Close');
    replace(
      dialog,
      h('h2', { id: `${uid}-title` }, `${actionLabel(req.action)} ${req.account}`),
      status,
      h('p', { class: 'muted small' }, `Request ${req.id}, reason: ${req.reason}`),
      result.warnings.length
        ? h(
            'ul',
            { class: 'warnings' },
            result.warnings.map((w) => h('li', null, w)),
          )
        : null,
      secrets ?? null,
      h('div', { class: 'table-wrap' }, progress),
      h('div', { class: 'buttons' }, closeButton),
    );
    ((secrets?.querySelector('button.copy') as HTMLElement | null) ?? closeButton).focus();
    for (const o of req.operations ?? []) update(o);
    // Operations may have finished before this page subscribed: read the request once more.
    app.api.get<RequestJson>(`/api/requests/${encodeURIComponent(req.id)}`).then(
      (r) => {
        status.textContent = statusText(r.state);
        for (const o of r.operations ?? []) update(o);
      },
      () => undefined,
    );
  }

  dialog.appendChild(form);
  document.body.appendChild(dialog);
  dialog.showModal();
  (target.account ? reason : account).focus();
}
