/**
 * Password escrow: reveal an account's escrowed password with a reason (shown once, with a copy button;
 * hiding it or leaving the page removes it, and it never goes into the URL or browser storage), rotate
 * it now, reveals waiting for approval (approve / reject for approvers on other people's, collect for
 * one's own approved ones), and per account the rotation class, when the password was set and by whom,
 * the last reveal, the next rotation and the last rotation's outcome. Live: changes redraw the tables.
 */
import type {
  EscrowEntryJson,
  EscrowStatusJson,
  RequestJson,
  RevealAnswerJson,
  RevealBody,
  RevealJson,
} from '../../api-types';
import { ApiError } from '../api';
import type { App, Page } from '../app';
import { h, replace } from '../dom';
import { ago, backendLabel, dateTime } from '../format';

const REVEAL_STATES: Record<string, string> = {
  pending: 'Waiting for approval',
  approved: 'Approved: collect it',
  rejected: 'Rejected',
  revealed: 'Revealed',
  expired: 'Expired',
};

function errorText(e: unknown, fallback: string): string {
  return e instanceof ApiError ? e.toString() : fallback;
}

export const renderEscrow: Page = (app: App, main: HTMLElement) => {
  const me = app.session.operator;
  const canReveal = app.session.abilities.escrowReveal;
  const status = h('p', { id: 'escrow-status', role: 'status', class: 'muted' }, 'Loading…');
  const secretArea = h('div', { id: 'escrow-secret', 'aria-live': 'polite' });
  const waiting = h('section', { class: 'card', 'aria-labelledby': 'reveals-title', id: 'escrow-reveals' });
  const accounts = h('section', { class: 'card', 'aria-labelledby': 'accounts-title', id: 'escrow-accounts' });

  const node = h('input', {
    id: 'escrow-node',
    name: 'node',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 128,
    list: 'escrow-node-list',
  });
  const nodeList = h('datalist', { id: 'escrow-node-list' });
  const account = h('input', {
    id: 'escrow-account',
    name: 'account',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 32,
  });
  const backend = h(
    'select',
    { id: 'escrow-backend', name: 'backend' },
    h('option', { value: 'linux' }, 'Linux'),
    h('option', { value: 'ssr' }, 'SSR'),
    h('option', { value: 'lrm' }, 'Local Run Manager'),
  );
  const reason = h('input', {
    id: 'escrow-reason',
    name: 'reason',
    required: true,
    maxlength: 500,
    autocomplete: 'off',
    placeholder: 'ticket number or why',
  });
  const formError = h('p', { class: 'form-error', role: 'alert' });
  const revealButton = h('button', { type: 'submit', class: 'primary', id: 'escrow-reveal' }, 'Reveal password');
  const rotateButton = h('button', { type: 'button', id: 'escrow-rotate' }, 'Rotate now');
  const form = h(
    'form',
    { class: 'change-form', novalidate: true, id: 'escrow-form', 'aria-labelledby': 'reveal-title' },
    h('h2', { id: 'reveal-title' }, 'Reveal or rotate a password'),
    h(
      'div',
      { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: 'escrow-node' }, 'Node'), node, nodeList),
      h('div', { class: 'field' }, h('label', { for: 'escrow-account' }, 'Account'), account),
      h('div', { class: 'field' }, h('label', { for: 'escrow-backend' }, 'Backend'), backend),
    ),
    h('div', { class: 'field' }, h('label', { for: 'escrow-reason' }, 'Reason (required, audited)'), reason),
    h(
      'p',
      { class: 'help' },
      'Every reveal is audited with its reason. Some accounts need a second person’s approval first; a revealed password is changed again when the grace period ends.',
    ),
    formError,
    h('div', { class: 'buttons' }, rotateButton, revealButton),
  );

  replace(
    main,
    h('div', { class: 'page-head' }, h('h1', null, 'Password escrow')),
    status,
    canReveal ? h('section', { class: 'card' }, form, secretArea) : null,
    waiting,
    accounts,
  );

  /** Shows a password once; hiding it (or leaving the page) drops the only node that holds it. */
  function showSecret(answer: RevealAnswerJson, what: string): void {
    const value = h('code', { class: 'secret', id: 'revealed-password' }, answer.password ?? '');
    answer.password = undefined;
    const copy = h(
      'button',
      { type: 'button', class: 'small copy', 'aria-label': `Copy the password of ${what}` },
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
    const panel = h(
      'section',
      { class: 'secret-panel', id: 'one-time-password', 'aria-labelledby': 'secret-title' },
      h('h3', { id: 'secret-title' }, `Password of ${what}, shown once`),
      h(
        'p',
        null,
        `Reveal ${answer.revealId} is in the audit log. `,
        answer.rotateAfter
          ? `fleetpass changes this password after ${dateTime(answer.rotateAfter)}.`
          : 'It is not rotated after use.',
      ),
      h('p', null, value, ' ', copy),
      h(
        'button',
        {
          type: 'button',
          id: 'hide-password',
          class: 'primary',
          on: {
            click: () => {
              replace(secretArea);
              app.toast('The password is gone from this page.', 'info');
            },
          },
        },
        'I have used it — hide the password',
      ),
    );
    replace(secretArea, panel);
    copy.focus();
  }

  function body(): RevealBody | undefined {
    const b = {
      nodeId: node.value.trim(),
      account: account.value.trim(),
      backend: backend.value as RevealBody['backend'],
      reason: reason.value.trim(),
    };
    const problem = !b.nodeId
      ? 'Choose the node.'
      : !b.account
        ? 'Name the account.'
        : !b.reason
          ? 'A reason is required (a ticket number or a few words).'
          : undefined;
    formError.textContent = problem ?? '';
    return problem ? undefined : b;
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const b = body();
    if (!b) return;
    revealButton.disabled = true;
    app.api.send<RevealAnswerJson>('POST', '/api/escrow/reveal', b).then(
      (r) => {
        revealButton.disabled = false;
        reason.value = '';
        if (r.state === 'revealed') showSecret(r, `${b.account} on ${b.nodeId}`);
        else {
          replace(
            secretArea,
            h(
              'p',
              { class: 'status', role: 'status', id: 'reveal-pending' },
              `Reveal ${r.revealId} waits for approval by someone else with the approver role. Collect it below once approved.`,
            ),
          );
          void load();
        }
      },
      (e: unknown) => {
        revealButton.disabled = false;
        formError.textContent = errorText(e, 'The reveal failed.');
      },
    );
  });

  rotateButton.addEventListener('click', () => {
    const b = body();
    if (!b) return;
    rotateButton.disabled = true;
    app.api
      .send<{ request: RequestJson | null }>('POST', '/api/escrow/rotate', {
        nodeIds: [b.nodeId],
        backend: b.backend,
        account: b.account,
        reason: b.reason,
      })
      .then(
        (r) => {
          rotateButton.disabled = false;
          reason.value = '';
          app.toast(
            r.request
              ? `Rotation ${r.request.id} sent.`
              : 'The node is offline or busy: it is rotated when it is back and idle.',
            'ok',
          );
          void load();
        },
        (e: unknown) => {
          rotateButton.disabled = false;
          formError.textContent = errorText(e, 'The rotation failed.');
        },
      );
  });

  function prefill(e: EscrowEntryJson): void {
    node.value = e.nodeId;
    account.value = e.account;
    backend.value = e.backend === 'unknown' ? 'linux' : e.backend;
    reason.focus();
  }

  async function decide(r: RevealJson, decision: 'approve' | 'reject', note: string): Promise<void> {
    try {
      await app.api.send<RevealJson>('POST', `/api/escrow/reveals/${encodeURIComponent(r.id)}/${decision}`, { note });
      app.toast(decision === 'approve' ? `Approved reveal ${r.id}.` : `Rejected reveal ${r.id}.`, 'ok');
      await load();
    } catch (e) {
      app.toast(errorText(e, 'The decision failed.'), 'error');
    }
  }

  async function collect(r: RevealJson): Promise<void> {
    try {
      const answer = await app.api.send<RevealAnswerJson>(
        'POST',
        `/api/escrow/reveals/${encodeURIComponent(r.id)}/collect`,
        {},
      );
      showSecret(answer, `${r.account} on ${r.nodeId}`);
      await load();
    } catch (e) {
      app.toast(errorText(e, 'Collecting the password failed.'), 'error');
    }
  }

  function revealRow(r: RevealJson): HTMLElement {
    const mine = r.requestedBy === me;
    const note = h('input', {
      'aria-label': `Note for reveal ${r.id}`,
      placeholder: 'note (optional)',
      maxlength: 500,
      class: 'note',
    });
    let actions: HTMLElement | string = '';
    if (mine && r.state === 'approved' && canReveal)
      actions = h(
        'button',
        { type: 'button', class: 'primary small', 'data-collect': r.id, on: { click: () => void collect(r) } },
        'Collect password',
      );
    else if (mine && r.state === 'pending') actions = 'Waiting for an approver';
    else if (!mine && r.state === 'pending' && app.session.abilities.decide) {
      actions = h(
        'span',
        { class: 'actions' },
        note,
        h(
          'button',
          {
            type: 'button',
            class: 'small',
            'data-approve': r.id,
            on: { click: () => void decide(r, 'approve', note.value.trim()) },
          },
          'Approve',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'small danger',
            'data-reject': r.id,
            on: { click: () => void decide(r, 'reject', note.value.trim()) },
          },
          'Reject',
        ),
      );
    }
    return h(
      'tr',
      { 'data-reveal': r.id },
      h('td', null, dateTime(r.created)),
      h('td', null, r.requestedBy),
      h('td', null, r.nodeId),
      h('td', null, `${r.account} (${backendLabel(r.backend)})`),
      h('td', null, r.reason),
      h('td', { 'data-state': r.state }, REVEAL_STATES[r.state] ?? r.state, r.decidedBy ? ` (${r.decidedBy})` : ''),
      h('td', null, actions),
    );
  }

  function accountRow(e: EscrowEntryJson, now: number): HTMLElement {
    const last = e.inFlight
      ? 'in progress'
      : e.lastRotationOutcome
        ? `${e.lastRotationOutcome}${e.lastRotationAt ? `, ${ago(e.lastRotationAt, now)}` : ''}`
        : '—';
    const next = e.nextRotation
      ? `${dateTime(e.nextRotation)}${e.rotationReason ? ` (${e.rotationReason})` : ''}`
      : 'not scheduled';
    return h(
      'tr',
      { 'data-node': e.nodeId, 'data-account': e.account },
      h('td', null, e.hostname || e.nodeId),
      h('td', null, `${e.account} (${backendLabel(e.backend)})`),
      h('td', null, e.rotationClass || '—'),
      h('td', null, e.setAt ? `${dateTime(e.setAt)} by ${e.setBy}` : 'not escrowed yet'),
      h('td', null, String(e.versions)),
      h('td', null, ago(e.lastRevealed, now)),
      h('td', { class: 'next-rotation' }, next),
      h('td', { class: 'last-rotation' }, last),
      h(
        'td',
        null,
        canReveal
          ? h('button', { type: 'button', class: 'small', on: { click: () => prefill(e) } }, 'Reveal or rotate…')
          : '',
      ),
    );
  }

  async function load(): Promise<void> {
    let s: EscrowStatusJson;
    try {
      s = await app.api.get<EscrowStatusJson>('/api/escrow/status');
    } catch (e) {
      status.textContent = errorText(e, 'Cannot read the escrow status.');
      return;
    }
    if (!s.available) {
      status.textContent = `Password escrow is not available: ${s.message ?? ''}`;
      form.hidden = true;
      return;
    }
    status.textContent = `${s.entries.length} account${s.entries.length === 1 ? '' : 's'} under escrow.`;
    const now = Date.now();
    replace(
      nodeList,
      [...new Set(s.entries.map((e) => e.nodeId))].map((id) => h('option', { value: id })),
    );
    replace(
      waiting,
      h('h2', { id: 'reveals-title' }, 'Reveals waiting for approval or collection'),
      s.reveals.length === 0
        ? h('p', { class: 'muted' }, 'None.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              null,
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['Asked', 'By', 'Node', 'Account', 'Reason', 'State', ''].map((t) => h('th', null, t)),
                ),
              ),
              h('tbody', null, s.reveals.map(revealRow)),
            ),
          ),
    );
    replace(
      accounts,
      h('h2', { id: 'accounts-title' }, 'Accounts, rotation schedule and last rotation'),
      s.entries.length === 0
        ? h(
            'p',
            { class: 'muted' },
            'No account is under escrow yet: a password is escrowed when fleetpass sets it (a reset or a rotation).',
          )
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { id: 'escrow-table' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  [
                    'Node',
                    'Account',
                    'Class',
                    'Password set',
                    'Versions',
                    'Last revealed',
                    'Next rotation',
                    'Last rotation',
                    '',
                  ].map((t) => h('th', null, t)),
                ),
              ),
              h(
                'tbody',
                null,
                s.entries.map((e) => accountRow(e, now)),
              ),
            ),
          ),
    );
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = app.live.on((e) => {
    if (e.type !== 'request' && e.type !== 'operation') return;
    clearTimeout(timer);
    timer = setTimeout(() => void load(), 300);
  });
  void load();
  return () => {
    stop();
    clearTimeout(timer);
  };
};
