/**
 * Fleet: every locked account first (time left ticking), then the nodes grouped by a label (site by
 * default) with their online state. Kept current by the live feed (node and account events are applied
 * to the page's model as they arrive; no reload). Operators select nodes or a locked account and open
 * the unlock / reset dialog; viewers see no such buttons.
 */
import type { AccountJson, LiveEvent, NodeJson } from '../../api-types';
import { ApiError } from '../api';
import type { App, Page } from '../app';
import { h, link, replace } from '../dom';
import { ago, backendLabel, failures, timeLeft } from '../format';

const accountKey = (a: AccountJson) => `${a.nodeId}/${a.state.backend}/${a.state.account}`;

export function nodeStateText(n: NodeJson): string {
  if (n.revoked) return 'revoked';
  if (n.online) return n.busy ? 'online (busy)' : 'online';
  return n.stale ? 'stale' : 'offline';
}

export function nodeStateBadge(n: NodeJson): HTMLElement {
  const cls = n.revoked ? 'revoked' : n.online ? 'online' : n.stale ? 'stale' : 'offline';
  return h('span', { class: `state ${cls}` }, h('span', { class: 'dot', 'aria-hidden': 'true' }), nodeStateText(n));
}

/** The ticking "time left" cell content; the page's timer refreshes every [data-lock-ends]. */
export function lockTimer(a: AccountJson['state']): HTMLElement {
  return h(
    'span',
    { class: 'time-left', 'data-lock-ends': a.lockEnds ?? '', 'data-permanent': a.lockPermanent ? '1' : '0' },
    timeLeft(a.lockEnds, a.lockPermanent, Date.now()),
  );
}

/** Refreshes every ticking lock timer under `root`. */
export function tickTimers(root: ParentNode): void {
  const now = Date.now();
  for (const el of root.querySelectorAll<HTMLElement>('[data-lock-ends]')) {
    el.textContent = timeLeft(el.dataset.lockEnds || null, el.dataset.permanent === '1', now);
  }
}

export const renderFleet: Page = (app: App, main: HTMLElement) => {
  const nodes = new Map<string, NodeJson>();
  const accounts = new Map<string, AccountJson>();
  const selected = new Set<string>();
  let groupBy = 'site';
  let filter = '';
  const canAct = app.session.abilities.request;

  const summary = h('p', { class: 'summary', id: 'fleet-summary' });
  const lockedSection = h('section', { class: 'card locked', 'aria-labelledby': 'locked-title' });
  const groupsSection = h('section', { class: 'groups', 'aria-label': 'Nodes' });
  const groupSelect = h('select', { id: 'group-by' });
  const filterInput = h('input', {
    id: 'node-filter',
    type: 'search',
    placeholder: 'hostname, id or platform',
    autocomplete: 'off',
  });
  const actOnSelected = h(
    'button',
    { type: 'button', id: 'act-on-selected', class: 'primary', props: { disabled: true } },
    'Unlock / reset on selected nodes…',
  );
  actOnSelected.addEventListener('click', () => {
    const ids = [...selected].filter((id) => nodes.has(id));
    app.openChange({
      nodeIds: ids,
      names: Object.fromEntries(ids.map((id) => [id, nodes.get(id)!.hostname])),
      account: 'ilmnuser',
      backend: 'linux',
    });
  });
  groupSelect.addEventListener('change', () => {
    groupBy = groupSelect.value;
    draw();
  });
  filterInput.addEventListener('input', () => {
    filter = filterInput.value.trim().toLowerCase();
    draw();
  });

  replace(
    main,
    h('div', { class: 'page-head' }, h('h1', null, 'Fleet'), summary),
    lockedSection,
    h(
      'div',
      { class: 'toolbar', role: 'group', 'aria-label': 'Node list options' },
      h('label', { for: 'group-by' }, 'Group by '),
      groupSelect,
      h('label', { for: 'node-filter' }, 'Find '),
      filterInput,
      canAct ? actOnSelected : null,
    ),
    groupsSection,
  );

  function actionButtons(a: AccountJson): HTMLElement | null {
    if (!canAct) return null;
    const open = (action: 'unlock' | 'reset_password') => () =>
      app.openChange({
        nodeIds: [a.nodeId],
        names: { [a.nodeId]: a.hostname },
        account: a.state.account,
        backend: a.state.backend as 'linux',
        action,
      });
    return h(
      'span',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'small',
          'data-action': 'unlock',
          'data-key': `unlock:${accountKey(a)}`,
          on: { click: open('unlock') },
        },
        'Unlock',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'small',
          'data-action': 'reset',
          'data-key': `reset:${accountKey(a)}`,
          on: { click: open('reset_password') },
        },
        'Reset password',
      ),
    );
  }

  function drawLocked(): void {
    const locked = [...accounts.values()]
      .filter((a) => a.state.locked)
      .sort((x, y) => {
        const end = (a: AccountJson) =>
          a.state.lockPermanent || !a.state.lockEnds ? Infinity : new Date(a.state.lockEnds).getTime();
        return end(y) - end(x) || x.nodeId.localeCompare(y.nodeId);
      });
    replace(
      lockedSection,
      h('h2', { id: 'locked-title' }, `Locked accounts (${locked.length})`),
      locked.length === 0
        ? h('p', { class: 'empty', id: 'no-locked' }, 'No account is locked anywhere in the fleet.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { id: 'locked-table' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  h('th', null, 'Node'),
                  h('th', { class: 'opt' }, 'Site'),
                  h('th', null, 'Account'),
                  h('th', null, 'Failures'),
                  h('th', { class: 'opt' }, 'Last failure from'),
                  h('th', null, 'Time left'),
                  canAct ? h('th', null, h('span', { class: 'sr-only' }, 'Actions')) : null,
                ),
              ),
              h(
                'tbody',
                null,
                locked.map((a) =>
                  h(
                    'tr',
                    { 'data-node': a.nodeId, 'data-account': a.state.account, class: 'locked-row' },
                    h(
                      'td',
                      null,
                      link(`/node/${encodeURIComponent(a.nodeId)}`, a.hostname || a.nodeId),
                      a.online ? null : h('span', { class: 'muted' }, ' (offline)'),
                    ),
                    h('td', { class: 'opt' }, a.site),
                    h(
                      'td',
                      null,
                      a.state.account,
                      ' ',
                      h('span', { class: 'muted' }, backendLabel(a.state.backend)),
                      a.privileged
                        ? h('span', { class: 'tag', title: 'A change needs a second person’s approval' }, 'privileged')
                        : null,
                    ),
                    h('td', null, failures(a.state.failureCount, a.state.denyThreshold)),
                    h('td', { class: 'opt' }, a.state.lastFailureSource || '—'),
                    h('td', null, lockTimer(a.state)),
                    canAct ? h('td', null, actionButtons(a)) : null,
                  ),
                ),
              ),
            ),
          ),
    );
  }

  function drawGroups(): void {
    const keys = new Set<string>(['site']);
    for (const n of nodes.values()) for (const k of Object.keys(n.labels)) keys.add(k);
    replace(
      groupSelect,
      [...keys].sort().map((k) => h('option', { value: k, props: { selected: k === groupBy } }, k)),
    );
    const shown = [...nodes.values()].filter(
      (n) => !filter || `${n.hostname} ${n.id} ${n.platform}`.toLowerCase().includes(filter),
    );
    const groups = new Map<string, NodeJson[]>();
    for (const n of shown) {
      const g = n.labels[groupBy] || `(no ${groupBy})`;
      groups.set(g, [...(groups.get(g) ?? []), n]);
    }
    const lockedOn = (id: string) => [...accounts.values()].filter((a) => a.nodeId === id && a.state.locked).length;
    replace(
      groupsSection,
      [...groups.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([g, list]) => {
          const titleId = `group-${g.replace(/[^A-Za-z0-9_-]/g, '_')}`;
          const online = list.filter((n) => n.online).length;
          const lockedCount = list.reduce((s, n) => s + lockedOn(n.id), 0);
          const selectAll = canAct
            ? h('input', {
                type: 'checkbox',
                'aria-label': `Select every node in ${g}`,
                'data-key': `all:${g}`,
                props: { checked: list.every((n) => selected.has(n.id)) },
              })
            : null;
          selectAll?.addEventListener('change', () => {
            for (const n of list)
              if (selectAll.checked) selected.add(n.id);
              else selected.delete(n.id);
            draw();
          });
          return h(
            'section',
            { class: 'card group', 'aria-labelledby': titleId, 'data-group': g },
            h(
              'h2',
              { id: titleId },
              `${groupBy}: ${g}`,
              h(
                'span',
                { class: 'muted' },
                ` · ${list.length} node${list.length === 1 ? '' : 's'}, ${online} online${lockedCount ? `, ${lockedCount} locked` : ''}`,
              ),
            ),
            h(
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
                    canAct ? h('th', { class: 'select' }, selectAll) : null,
                    h('th', null, 'Node'),
                    h('th', { class: 'opt' }, 'Platform'),
                    h('th', null, 'State'),
                    h('th', null, 'Locked'),
                    h('th', { class: 'opt' }, 'Last seen'),
                  ),
                ),
                h(
                  'tbody',
                  null,
                  list
                    .sort((a, b) => a.hostname.localeCompare(b.hostname))
                    .map((n) => {
                      const box = canAct
                        ? h('input', {
                            type: 'checkbox',
                            'aria-label': `Select ${n.hostname || n.id}`,
                            'data-key': `sel:${n.id}`,
                            props: { checked: selected.has(n.id), disabled: n.revoked },
                          })
                        : null;
                      box?.addEventListener('change', () => {
                        if (box.checked) selected.add(n.id);
                        else selected.delete(n.id);
                        draw();
                      });
                      const lockedHere = lockedOn(n.id);
                      return h(
                        'tr',
                        { 'data-node': n.id, class: lockedHere ? 'has-locked' : undefined },
                        canAct ? h('td', { class: 'select' }, box) : null,
                        h(
                          'td',
                          null,
                          link(`/node/${encodeURIComponent(n.id)}`, n.hostname || n.id),
                          h('div', { class: 'muted small' }, n.id),
                        ),
                        h('td', { class: 'opt' }, n.platform || '—'),
                        h('td', null, nodeStateBadge(n)),
                        h('td', null, lockedHere ? h('strong', { class: 'bad' }, String(lockedHere)) : '0'),
                        h('td', { class: 'opt' }, ago(n.lastSeen, Date.now())),
                      );
                    }),
                ),
              ),
            ),
          );
        }),
    );
    if (groups.size === 0)
      groupsSection.appendChild(
        h('p', { class: 'empty' }, nodes.size ? 'No node matches.' : 'No node has connected yet.'),
      );
  }

  function draw(): void {
    const focusedKey = (document.activeElement as HTMLElement | null)?.getAttribute?.('data-key');
    for (const id of [...selected]) if (!nodes.has(id)) selected.delete(id);
    const all = [...nodes.values()];
    const locked = [...accounts.values()].filter((a) => a.state.locked).length;
    summary.textContent = `${all.length} nodes, ${all.filter((n) => n.online).length} online, ${locked} locked account${locked === 1 ? '' : 's'}`;
    drawLocked();
    drawGroups();
    actOnSelected.disabled = selected.size === 0;
    actOnSelected.textContent = selected.size
      ? `Unlock / reset on ${selected.size} selected node${selected.size === 1 ? '' : 's'}…`
      : 'Unlock / reset on selected nodes…';
    if (focusedKey) main.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
  }

  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  };

  const onLive = (e: LiveEvent) => {
    if (e.type === 'node') {
      nodes.set(e.node.id, e.node);
      if (e.node.revoked) for (const [k, a] of accounts) if (a.nodeId === e.node.id) accounts.delete(k);
    } else if (e.type === 'accounts') {
      for (const a of e.accounts) accounts.set(accountKey(a), a);
      const n = nodes.get(e.nodeId);
      if (n) n.lockedAccounts = [...accounts.values()].filter((a) => a.nodeId === e.nodeId && a.state.locked).length;
      else void load();
    } else return;
    schedule();
  };

  async function load(): Promise<void> {
    try {
      const [n, a] = await Promise.all([
        app.api.get<{ nodes: NodeJson[] }>('/api/nodes'),
        app.api.get<{ accounts: AccountJson[] }>('/api/accounts'),
      ]);
      nodes.clear();
      for (const x of n.nodes) nodes.set(x.id, x);
      accounts.clear();
      for (const x of a.accounts) accounts.set(accountKey(x), x);
      draw();
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401) app.toast(e.toString(), 'error');
    }
  }

  const stopLive = app.live.on(onLive);
  // After a reconnect the feed may have missed events: read everything again.
  const stopStatus = app.live.onStatus((s) => {
    if (s === 'live') void load();
  });
  const timer = setInterval(() => tickTimers(main), 1000);
  void load();
  return () => {
    stopLive();
    stopStatus();
    clearInterval(timer);
  };
};
