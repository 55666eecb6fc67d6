/**
 * Audit: the chain verification status in plain words, a search form (node, account, operator, action,
 * outcome, time), the records newest first with cursor paging (large logs never load at once), and the
 * export of the current search as CSV or JSON Lines.
 */
import type { AuditPageJson, AuditRecordJson, VerifyJson } from '../../api-types';
import { ApiError } from '../api';
import type { App, Page } from '../app';
import { h, link, replace } from '../dom';
import { dateTime } from '../format';

const PAGE_SIZE = 50;
const ACTIONS = [
  'request.created',
  'request.approved',
  'request.rejected',
  'operation.*',
  'operation.succeeded',
  'operation.failed',
  'access.denied',
  'auth.failed',
  'web.*',
  'audit.exported',
  'node.*',
  'operator.*',
  'token.created',
];
const OUTCOMES = ['ok', 'succeeded', 'failed', 'refused', 'expired', 'rejected', 'revoked'];

/** A datetime-local value (local time) as ISO 8601, or '' when empty. */
function isoOf(local: string): string {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function detailsText(r: AuditRecordJson): string {
  const entries = Object.entries(r.details).filter(([, v]) => v !== undefined && v !== '' && v !== null);
  return entries.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
}

export const renderAudit: Page = (app: App, main: HTMLElement) => {
  const verify = h('div', { class: 'verify', id: 'audit-verify', role: 'status' }, 'Checking the audit chain…');
  const field = (name: string, label: string, attrs: Record<string, unknown> = {}) => {
    const input = h('input', { id: `f-${name}`, name, autocomplete: 'off', ...attrs });
    return { input, el: h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), input) };
  };
  const f = {
    node: field('node', 'Node'),
    account: field('account', 'Account'),
    actor: field('actor', 'Operator or actor'),
    action: field('action', 'Action', { list: 'audit-actions', placeholder: 'e.g. operation.*' }),
    outcome: field('outcome', 'Outcome', { list: 'audit-outcomes' }),
    since: field('since', 'From', { type: 'datetime-local' }),
    until: field('until', 'Until', { type: 'datetime-local' }),
  };
  const results = h('section', { class: 'card', 'aria-labelledby': 'records-title' });
  const exportCsv = h('button', { type: 'button', id: 'export-csv' }, 'Export CSV');
  const exportJsonl = h('button', { type: 'button', id: 'export-jsonl' }, 'Export JSON Lines');
  const form = h(
    'form',
    { class: 'card filters', 'aria-label': 'Search the audit log' },
    h(
      'div',
      { class: 'field-grid' },
      Object.values(f).map((x) => x.el),
    ),
    h(
      'datalist',
      { id: 'audit-actions' },
      ACTIONS.map((a) => h('option', { value: a })),
    ),
    h(
      'datalist',
      { id: 'audit-outcomes' },
      OUTCOMES.map((o) => h('option', { value: o })),
    ),
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h('button', { type: 'reset' }, 'Clear'),
      h('span', { class: 'spacer' }),
      exportCsv,
      exportJsonl,
    ),
  );
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'Audit log')), verify, form, results);

  // Cursors of the pages before the current one, so "Newer" can go back.
  let cursors: number[] = [];
  let current = 0;

  function filter(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(f)) {
      const v = k === 'since' || k === 'until' ? isoOf(x.input.value) : x.input.value.trim();
      if (v) out[k] = v;
    }
    return out;
  }

  async function checkChain(): Promise<void> {
    try {
      const v = await app.api.get<VerifyJson>('/api/audit/verify');
      verify.className = `verify ${v.ok ? 'ok' : 'broken'}`;
      replace(
        verify,
        v.ok
          ? [
              h('strong', null, `✓ Audit chain verified up to record ${v.verifiedThrough}.`),
              ` ${v.total} records, ${v.checkpoints} checkpoint(s) checked.`,
            ]
          : [
              h('strong', null, `✗ Audit chain broken at record ${v.brokenAt}.`),
              ` ${v.problem} Records 1 to ${v.verifiedThrough} verified.`,
            ],
      );
    } catch (e) {
      verify.className = 'verify broken';
      verify.textContent =
        e instanceof ApiError ? `Cannot verify the chain: ${e.toString()}` : 'Cannot verify the chain.';
    }
  }

  async function load(before: number): Promise<void> {
    current = before;
    const q = new URLSearchParams({ ...filter(), limit: String(PAGE_SIZE) });
    if (before) q.set('before', String(before));
    try {
      const page = await app.api.get<AuditPageJson>(`/api/audit?${q.toString()}`);
      const newer = h(
        'button',
        { type: 'button', id: 'page-newer', props: { disabled: cursors.length === 0 } },
        '← Newer',
      );
      const older = h('button', { type: 'button', id: 'page-older', props: { disabled: !page.nextCursor } }, 'Older →');
      newer.addEventListener('click', () => void load(cursors.pop() ?? 0));
      older.addEventListener('click', () => {
        cursors.push(current);
        void load(page.nextCursor);
      });
      const range = page.records.length
        ? `records ${page.records[page.records.length - 1].seq}–${page.records[0].seq}`
        : 'no records';
      replace(
        results,
        h(
          'h2',
          { id: 'records-title' },
          'Records ',
          h('span', { class: 'muted', id: 'audit-range' }, `(${range}, newest first)`),
        ),
        page.records.length === 0
          ? h('p', { class: 'empty' }, 'No record matches.')
          : h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { id: 'audit-table' },
                h(
                  'thead',
                  null,
                  h(
                    'tr',
                    null,
                    h('th', null, '#'),
                    h('th', null, 'Time'),
                    h('th', null, 'Actor'),
                    h('th', null, 'Action'),
                    h('th', null, 'Node'),
                    h('th', null, 'Account'),
                    h('th', null, 'Outcome'),
                    h('th', { class: 'opt' }, 'Reason'),
                    h('th', { class: 'opt' }, 'Details'),
                  ),
                ),
                h(
                  'tbody',
                  null,
                  page.records.map((r) =>
                    h(
                      'tr',
                      { 'data-seq': r.seq, 'data-action': r.action },
                      h('td', null, r.seq),
                      h('td', null, h('time', { datetime: r.time }, dateTime(r.time))),
                      h('td', null, r.actor),
                      h('td', null, r.action),
                      h('td', null, r.nodeId ? link(`/node/${encodeURIComponent(r.nodeId)}`, r.nodeId) : ''),
                      h('td', null, r.account),
                      h('td', { class: `outcome ${r.outcome}` }, r.outcome),
                      h('td', { class: 'opt' }, r.reason),
                      h('td', { class: 'opt details' }, detailsText(r)),
                    ),
                  ),
                ),
              ),
            ),
        h('div', { class: 'pager' }, newer, older),
      );
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401)
        replace(results, h('p', { class: 'form-error', role: 'alert' }, e.toString()));
    }
  }

  async function exportAs(format: 'csv' | 'jsonl', button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const r = await app.api.download('/api/audit/export', { format, filter: filter() }, `fleetpass-audit.${format}`);
      app.toast(`Saved ${r.name} (${r.bytes} bytes).`, 'ok');
      void checkChain();
    } catch (e) {
      app.toast(e instanceof ApiError ? e.toString() : 'The export failed.', 'error');
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    cursors = [];
    void load(0);
  });
  form.addEventListener('reset', () => {
    setTimeout(() => {
      cursors = [];
      void load(0);
    });
  });
  exportCsv.addEventListener('click', () => void exportAs('csv', exportCsv));
  exportJsonl.addEventListener('click', () => void exportAs('jsonl', exportJsonl));
  void checkChain();
  void load(0);
};
