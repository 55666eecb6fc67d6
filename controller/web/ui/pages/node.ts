/**
 * One node: its facts, its accounts with their state (time left on a lock), operations still pending
 * there, and for the chosen account the history of lockouts and resets (state changes and audit
 * records). Live: any event about this node reloads the page's data.
 */
import type { AccountHistoryJson, AccountJson, LiveEvent, NodeDetailJson } from '../../api-types';
import { ApiError } from '../api';
import type { App, Page } from '../app';
import { h, link, replace } from '../dom';
import { actionLabel, ago, backendLabel, dateTime, failures, stateLabel } from '../format';
import { lockTimer, nodeStateBadge, tickTimers } from './fleet';

export const renderNode: Page = (app: App, main: HTMLElement, params: string[]) => {
  const nodeId = params[0] ?? '';
  const canAct = app.session.abilities.request;
  let chosen: { backend: string; account: string } | undefined;
  const head = h('div', { class: 'page-head' });
  const facts = h('section', { class: 'card', 'aria-labelledby': 'facts-title' });
  const accountsCard = h('section', { class: 'card', 'aria-labelledby': 'accounts-title' });
  const pendingCard = h('section', { class: 'card', 'aria-labelledby': 'pending-title' });
  const historyCard = h('section', { class: 'card', 'aria-labelledby': 'history-title', id: 'history' });
  replace(
    main,
    h('p', { class: 'crumbs' }, link('/fleet', 'Fleet'), ' › ', nodeId),
    head,
    h('div', { class: 'columns' }, facts, pendingCard),
    accountsCard,
    historyCard,
  );

  function open(a: AccountJson, action: 'unlock' | 'reset_password'): void {
    app.openChange({
      nodeIds: [a.nodeId],
      names: { [a.nodeId]: a.hostname },
      account: a.state.account,
      backend: a.state.backend as 'linux',
      action,
    });
  }

  function draw(d: NodeDetailJson): void {
    const n = d.node;
    replace(head, h('h1', null, n.hostname || n.id), nodeStateBadge(n));
    const dl = (pairs: Array<[string, string | Node]>) =>
      h(
        'dl',
        { class: 'facts' },
        pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
      );
    replace(
      facts,
      h('h2', { id: 'facts-title' }, 'Node'),
      dl([
        ['Id', n.id],
        ['Platform', n.platform || '—'],
        ['Agent', n.agentVersion || '—'],
        ['Backends', n.backends.map(backendLabel).join(', ') || '—'],
        [
          'Labels',
          Object.entries(n.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') || '—',
        ],
        [
          'Reported labels',
          Object.entries(n.reportedLabels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') || '—',
        ],
        ['First seen', dateTime(n.firstSeen)],
        ['Last seen', `${ago(n.lastSeen, Date.now())}`],
      ]),
    );
    replace(
      accountsCard,
      h('h2', { id: 'accounts-title' }, 'Accounts'),
      d.accounts.length === 0
        ? h('p', { class: 'empty' }, 'The node has not reported any account.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { id: 'node-accounts' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  h('th', null, 'Account'),
                  h('th', null, 'State'),
                  h('th', null, 'Failures'),
                  h('th', null, 'Time left'),
                  h('th', { class: 'opt' }, 'Password changed'),
                  h('th', null, h('span', { class: 'sr-only' }, 'Actions')),
                ),
              ),
              h(
                'tbody',
                null,
                d.accounts.map((a) =>
                  h(
                    'tr',
                    { 'data-account': a.state.account, class: a.state.locked ? 'locked-row' : undefined },
                    h(
                      'td',
                      null,
                      a.state.account,
                      ' ',
                      h('span', { class: 'muted' }, backendLabel(a.state.backend)),
                      a.privileged ? h('span', { class: 'tag' }, 'privileged') : null,
                    ),
                    h(
                      'td',
                      null,
                      a.state.locked
                        ? h(
                            'strong',
                            { class: 'bad' },
                            `Locked (${a.state.lockReasons.join(', ').replace(/_/g, ' ') || 'locked'})`,
                          )
                        : a.state.exists
                          ? h('span', { class: 'good' }, 'OK')
                          : 'missing',
                    ),
                    h('td', null, failures(a.state.failureCount, a.state.denyThreshold)),
                    h('td', null, a.state.locked ? lockTimer(a.state) : '—'),
                    h('td', { class: 'opt' }, dateTime(a.state.passwordChanged)),
                    h(
                      'td',
                      null,
                      h(
                        'span',
                        { class: 'actions' },
                        h(
                          'button',
                          {
                            type: 'button',
                            class: 'small',
                            'data-action': 'history',
                            on: { click: () => showHistory(a.state.backend, a.state.account) },
                          },
                          'History',
                        ),
                        canAct
                          ? h(
                              'button',
                              {
                                type: 'button',
                                class: 'small',
                                'data-action': 'unlock',
                                on: { click: () => open(a, 'unlock') },
                              },
                              'Unlock',
                            )
                          : null,
                        canAct
                          ? h(
                              'button',
                              {
                                type: 'button',
                                class: 'small',
                                'data-action': 'reset',
                                on: { click: () => open(a, 'reset_password') },
                              },
                              'Reset password',
                            )
                          : null,
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
    );
    replace(
      pendingCard,
      h('h2', { id: 'pending-title' }, 'Pending operations'),
      d.pending.length === 0
        ? h('p', { class: 'empty' }, 'Nothing is waiting for this node.')
        : h(
            'ul',
            { class: 'plain', id: 'pending-ops' },
            d.pending.map((o) =>
              h(
                'li',
                null,
                h('strong', null, `${actionLabel(o.action)} ${o.account}`),
                ` — ${stateLabel(o.state)}`,
                o.requestState === 'pending_approval' ? h('span', { class: 'tag' }, 'waiting for approval') : null,
                h(
                  'div',
                  { class: 'muted small' },
                  `asked by ${o.requestedBy}: ${o.reason}; expires ${dateTime(o.expires)}`,
                ),
              ),
            ),
          ),
    );
    if (!chosen) {
      const first = d.accounts.find((a) => a.state.locked) ?? d.accounts[0];
      if (first) void showHistory(first.state.backend, first.state.account);
      else
        replace(
          historyCard,
          h('h2', { id: 'history-title' }, 'History'),
          h('p', { class: 'empty' }, 'No account to show.'),
        );
    }
  }

  async function showHistory(backend: string, account: string): Promise<void> {
    chosen = { backend, account };
    try {
      const r = await app.api.get<AccountHistoryJson>(
        `/api/nodes/${encodeURIComponent(nodeId)}/accounts/${backend}/${encodeURIComponent(account)}`,
      );
      replace(
        historyCard,
        h('h2', { id: 'history-title' }, `History of ${account}`),
        h(
          'div',
          { class: 'columns' },
          h(
            'div',
            null,
            h('h3', null, 'Lockouts and unlocks'),
            r.history.length === 0
              ? h('p', { class: 'empty' }, 'No state change recorded.')
              : h(
                  'ol',
                  { class: 'timeline', id: 'state-history' },
                  r.history.map((e) =>
                    h(
                      'li',
                      { class: e.state.locked ? 'bad' : 'good' },
                      h('time', { datetime: e.observed }, dateTime(e.observed)),
                      ' ',
                      e.state.locked
                        ? `locked (${e.state.failureCount} failures${e.state.lastFailureSource ? ` from ${e.state.lastFailureSource}` : ''})`
                        : 'not locked',
                      h('span', { class: 'muted' }, ` · ${e.source}`),
                    ),
                  ),
                ),
          ),
          h(
            'div',
            null,
            h('h3', null, 'Audit records'),
            r.audit.length === 0
              ? h('p', { class: 'empty' }, 'No audit record for this account.')
              : h(
                  'ol',
                  { class: 'timeline', id: 'account-audit' },
                  r.audit.map((x) =>
                    h(
                      'li',
                      {
                        class:
                          x.outcome === 'succeeded' || x.outcome === 'ok'
                            ? 'good'
                            : x.outcome === 'failed' || x.outcome === 'refused'
                              ? 'bad'
                              : undefined,
                      },
                      h('time', { datetime: x.time }, dateTime(x.time)),
                      ' ',
                      h('strong', null, x.action),
                      ` by ${x.actor}`,
                      x.outcome ? ` — ${x.outcome}` : '',
                      x.reason ? h('span', { class: 'muted' }, ` (${x.reason})`) : null,
                      h('span', { class: 'muted small' }, ` #${x.seq}`),
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

  async function load(): Promise<void> {
    try {
      draw(await app.api.get<NodeDetailJson>(`/api/nodes/${encodeURIComponent(nodeId)}`));
      if (chosen) void showHistory(chosen.backend, chosen.account);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404)
        replace(head, h('h1', null, 'No such node'), h('p', null, e.message));
      else if (e instanceof ApiError && e.status !== 401) app.toast(e.toString(), 'error');
    }
  }

  let timerLoad: ReturnType<typeof setTimeout> | undefined;
  const stop = app.live.on((e: LiveEvent) => {
    const mine =
      (e.type === 'node' && e.node.id === nodeId) ||
      (e.type === 'accounts' && e.nodeId === nodeId) ||
      (e.type === 'operation' && e.operation.nodeId === nodeId) ||
      e.type === 'request';
    if (!mine) return;
    clearTimeout(timerLoad);
    timerLoad = setTimeout(() => void load(), 200);
  });
  const tick = setInterval(() => tickTimers(main), 1000);
  void load();
  return () => {
    stop();
    clearInterval(tick);
    clearTimeout(timerLoad);
  };
};
