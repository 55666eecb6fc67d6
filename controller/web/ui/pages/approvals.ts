/**
 * Approvals: requests waiting for a second person (what, where, who asked, why), with approve / reject
 * for approvers on other people's requests only (the server refuses one's own anyway), cancel for one's
 * own; below, the recent requests and how they ended. Live: request events redraw the lists.
 */
import type { LiveEvent, RequestJson } from '../../api-types';
import { ApiError } from '../api';
import type { App, Page } from '../app';
import { h, replace } from '../dom';
import { actionLabel, backendLabel, dateTime, stateLabel } from '../format';

function counts(r: RequestJson): string {
  return (
    Object.entries(r.counts)
      .map(([k, v]) => `${v} ${stateLabel(k).toLowerCase()}`)
      .join(', ') || 'no operations'
  );
}

function nodesOf(r: RequestJson): string {
  const n = Object.values(r.counts).reduce((a, b) => a + (b ?? 0), 0);
  return `${n} node${n === 1 ? '' : 's'}`;
}

export const renderApprovals: Page = (app: App, main: HTMLElement) => {
  const me = app.session.operator;
  const waiting = h('section', { class: 'card', 'aria-labelledby': 'waiting-title' });
  const recent = h('section', { class: 'card', 'aria-labelledby': 'recent-title' });
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'Approvals')), waiting, recent);

  async function decide(r: RequestJson, decision: 'approve' | 'reject' | 'cancel', note: string): Promise<void> {
    try {
      await app.api.send<RequestJson>('POST', `/api/requests/${encodeURIComponent(r.id)}/${decision}`, { note });
      app.toast(
        decision === 'approve'
          ? `Approved ${r.id}.`
          : decision === 'reject'
            ? `Rejected ${r.id}.`
            : `Cancelled ${r.id}.`,
        'ok',
      );
      await load();
    } catch (e) {
      app.toast(e instanceof ApiError ? e.toString() : 'The decision failed.', 'error');
    }
  }

  function card(r: RequestJson): HTMLElement {
    const mine = r.requestedBy === me;
    const note = h('input', {
      'aria-label': `Note for ${r.id}`,
      placeholder: 'note (optional)',
      maxlength: 500,
      class: 'note',
    });
    const controls = mine
      ? [
          h('p', { class: 'muted' }, 'Your request: a second person must approve it.'),
          app.session.abilities.request
            ? h(
                'button',
                { type: 'button', 'data-action': 'cancel', on: { click: () => void decide(r, 'cancel', note.value) } },
                'Cancel request',
              )
            : null,
        ]
      : app.session.abilities.decide
        ? [
            note,
            h(
              'button',
              {
                type: 'button',
                class: 'primary',
                'data-action': 'approve',
                on: { click: () => void decide(r, 'approve', note.value) },
              },
              'Approve',
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'danger',
                'data-action': 'reject',
                on: { click: () => void decide(r, 'reject', note.value) },
              },
              'Reject',
            ),
          ]
        : [h('p', { class: 'muted' }, 'An approver decides on this request.')];
    return h(
      'li',
      { class: 'request', 'data-request': r.id, 'data-requested-by': r.requestedBy },
      h(
        'h3',
        null,
        `${actionLabel(r.action)} ${r.account}`,
        h('span', { class: 'muted' }, ` on ${nodesOf(r)} · ${backendLabel(r.backend)}`),
        r.privileged ? h('span', { class: 'tag' }, 'privileged') : null,
      ),
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Asked by'),
        h('dd', { class: 'requested-by' }, r.requestedBy),
        h('dt', null, 'When'),
        h('dd', null, dateTime(r.created)),
        h('dt', null, 'Why'),
        h('dd', { class: 'reason' }, r.reason),
        h('dt', null, 'Expires'),
        h('dd', null, dateTime(r.expires)),
        h('dt', null, 'Request'),
        h('dd', { class: 'muted small' }, r.id),
      ),
      h('div', { class: 'decision' }, controls),
    );
  }

  async function load(): Promise<void> {
    try {
      const [p, all] = await Promise.all([
        app.api.get<{ requests: RequestJson[] }>('/api/requests?view=pending'),
        app.api.get<{ requests: RequestJson[] }>('/api/requests?view=all'),
      ]);
      replace(
        waiting,
        h('h2', { id: 'waiting-title' }, `Waiting for approval (${p.requests.length})`),
        p.requests.length === 0
          ? h('p', { class: 'empty' }, 'Nothing is waiting.')
          : h('ul', { class: 'plain requests', id: 'pending-requests' }, p.requests.map(card)),
      );
      const done = all.requests.filter((r) => r.state !== 'pending_approval').slice(0, 50);
      replace(
        recent,
        h('h2', { id: 'recent-title' }, 'Recent requests'),
        done.length === 0
          ? h('p', { class: 'empty' }, 'No request yet.')
          : h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { id: 'recent-requests' },
                h(
                  'thead',
                  null,
                  h(
                    'tr',
                    null,
                    h('th', null, 'When'),
                    h('th', null, 'What'),
                    h('th', null, 'Asked by'),
                    h('th', { class: 'opt' }, 'Why'),
                    h('th', null, 'State'),
                    h('th', { class: 'opt' }, 'Decided by'),
                    h('th', { class: 'opt' }, 'Nodes'),
                  ),
                ),
                h(
                  'tbody',
                  null,
                  done.map((r) =>
                    h(
                      'tr',
                      { 'data-request': r.id },
                      h('td', null, dateTime(r.created)),
                      h('td', null, `${actionLabel(r.action)} ${r.account}`),
                      h('td', null, r.requestedBy),
                      h('td', { class: 'opt' }, r.reason),
                      h('td', null, stateLabel(r.state)),
                      h('td', { class: 'opt' }, r.approvedBy || r.rejectedBy || '—'),
                      h('td', { class: 'opt' }, counts(r)),
                    ),
                  ),
                ),
              ),
            ),
      );
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401) app.toast(e.toString(), 'error');
    }
  }

  let t: ReturnType<typeof setTimeout> | undefined;
  const stop = app.live.on((e: LiveEvent) => {
    if (e.type !== 'request' && e.type !== 'operation') return;
    // Keep a note being typed: only redraw when focus is not inside a request card.
    if (document.activeElement?.closest?.('.request')) return;
    clearTimeout(t);
    t = setTimeout(() => void load(), 250);
  });
  void load();
  return () => {
    stop();
    clearTimeout(t);
  };
};
