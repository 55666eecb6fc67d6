/**
 * Activity: lockouts, password resets and unlocks per day and per site (inline SVG charts on one scale),
 * and the instruments with the most lockouts, so a recurring problem stands out. Data is computed by
 * the controller from account state history and the audit log.
 */
import type { ActivityJson } from '../../api-types';
import { ApiError } from '../api';
import type { App, Page } from '../app';
import { h, link, replace } from '../dom';
import { SERIES, siteChart } from '../chart';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Three or more lockouts in the window marks an instrument as a recurring problem. */
const RECURRING = 3;

export const renderActivity: Page = (app: App, main: HTMLElement) => {
  const days = h(
    'select',
    { id: 'activity-days' },
    [7, 14, 30, 90].map((d) => h('option', { value: d, props: { selected: d === 30 } }, `last ${d} days`)),
  );
  const body = h('div', { id: 'activity' });
  replace(
    main,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Activity'),
      h('label', { for: 'activity-days', class: 'sr-only' }, 'Period'),
      days,
    ),
    h(
      'p',
      { class: 'legend', 'aria-hidden': 'true' },
      SERIES.map((x) => h('span', { class: 'legend-item' }, h('span', { class: `swatch ${x.cls}` }), x.label)),
    ),
    body,
  );

  async function load(): Promise<void> {
    try {
      const a = await app.api.get<ActivityJson>(`/api/activity?days=${days.value}`);
      const max = Math.max(0, ...a.sites.flatMap((x) => [...x.lockouts, ...x.resets, ...x.unlocks]));
      replace(
        body,
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'sites-title' },
          h('h2', { id: 'sites-title' }, 'Per site and day'),
          a.sites.length === 0
            ? h('p', { class: 'empty' }, 'No lockout, reset or unlock in this period.')
            : a.sites.map((site) =>
                h(
                  'figure',
                  { class: 'site-chart' },
                  h(
                    'figcaption',
                    null,
                    site.site,
                    h(
                      'span',
                      { class: 'muted' },
                      ` · ${plural(sum(site.lockouts), 'lockout')}, ${plural(sum(site.resets), 'reset')}, ${plural(sum(site.unlocks), 'unlock')}`,
                    ),
                  ),
                  siteChart(site, a.days, max),
                ),
              ),
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'top-title' },
          h('h2', { id: 'top-title' }, 'Instruments with the most lockouts'),
          a.topNodes.length === 0
            ? h('p', { class: 'empty' }, 'None.')
            : h(
                'div',
                { class: 'table-wrap' },
                h(
                  'table',
                  { id: 'top-nodes' },
                  h(
                    'thead',
                    null,
                    h(
                      'tr',
                      null,
                      h('th', null, 'Node'),
                      h('th', null, 'Site'),
                      h('th', null, 'Lockouts'),
                      h('th', null, 'Resets'),
                      h('th', null, 'Unlocks'),
                    ),
                  ),
                  h(
                    'tbody',
                    null,
                    a.topNodes.map((n) =>
                      h(
                        'tr',
                        { class: n.lockouts >= RECURRING ? 'recurring' : undefined, 'data-node': n.nodeId },
                        h(
                          'td',
                          null,
                          link(`/node/${encodeURIComponent(n.nodeId)}`, n.hostname || n.nodeId),
                          n.lockouts >= RECURRING ? h('span', { class: 'tag bad' }, 'recurring') : null,
                        ),
                        h('td', null, n.site),
                        h('td', null, n.lockouts),
                        h('td', null, n.resets),
                        h('td', null, n.unlocks),
                      ),
                    ),
                  ),
                ),
              ),
        ),
      );
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401)
        replace(body, h('p', { class: 'form-error', role: 'alert' }, e.toString()));
    }
  }

  days.addEventListener('change', () => void load());
  void load();
};
