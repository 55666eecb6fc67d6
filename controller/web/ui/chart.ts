/**
 * The activity chart as inline SVG built with DOM calls (no library, no CDN, no inline style: colours
 * come from the stylesheet by class). One small chart per site on a shared scale, so the site (and,
 * in the table beside it, the instrument) with recurring lockouts stands out.
 */
import type { ActivityJson } from '../api-types';
import { barGeometry } from './chart-geometry';
import { s } from './dom';

export const SERIES = [
  { key: 'lockouts', label: 'Lockouts', cls: 'bar-lockout' },
  { key: 'resets', label: 'Password resets', cls: 'bar-reset' },
  { key: 'unlocks', label: 'Unlocks', cls: 'bar-unlock' },
] as const;

const WIDTH = 720;
const HEIGHT = 130;

/** One site's chart. */
export function siteChart(site: ActivityJson['sites'][number], days: string[], sharedMax: number): SVGSVGElement {
  const series = SERIES.map((x) => site[x.key]);
  const g = barGeometry(series, WIDTH, HEIGHT, sharedMax);
  const total = (k: (typeof SERIES)[number]['key']) => site[k].reduce((a, b) => a + b, 0);
  const id = `chart-${site.site.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const bottom = g.plot.top + g.plot.height;
  const label = (day: number, anchor: string) =>
    s(
      'text',
      {
        x: g.plot.left + (day + 0.5) * (g.plot.width / days.length),
        y: HEIGHT - 6,
        'text-anchor': anchor,
        class: 'axis-label',
      },
      days[day].slice(5),
    );
  return s(
    'svg',
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      class: 'chart',
      role: 'img',
      'aria-labelledby': `${id}-title ${id}-desc`,
      'data-site': site.site,
    },
    s('title', { id: `${id}-title` }, `Site ${site.site}`),
    s(
      'desc',
      { id: `${id}-desc` },
      `${total('lockouts')} lockouts, ${total('resets')} password resets and ${total('unlocks')} unlocks from ${days[0]} to ${days[days.length - 1]}.`,
    ),
    s('line', { x1: g.plot.left, y1: bottom, x2: g.plot.left + g.plot.width, y2: bottom, class: 'axis' }),
    s('line', { x1: g.plot.left, y1: g.plot.top, x2: g.plot.left, y2: bottom, class: 'axis' }),
    s('text', { x: g.plot.left - 4, y: g.plot.top + 8, 'text-anchor': 'end', class: 'axis-label' }, g.max),
    s('text', { x: g.plot.left - 4, y: bottom, 'text-anchor': 'end', class: 'axis-label' }, 0),
    label(0, 'start'),
    days.length > 2 ? label(Math.floor(days.length / 2), 'middle') : null,
    days.length > 1 ? label(days.length - 1, 'end') : null,
    g.bars.map((b) =>
      s(
        'rect',
        {
          x: b.x.toFixed(1),
          y: b.y.toFixed(1),
          width: b.width.toFixed(1),
          height: b.height.toFixed(1),
          class: SERIES[b.series].cls,
          'data-day': days[b.day],
          'data-value': b.value,
        },
        s('title', null, `${days[b.day]}: ${b.value} ${SERIES[b.series].label.toLowerCase()}`),
      ),
    ),
  );
}
