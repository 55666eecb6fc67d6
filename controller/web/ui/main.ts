/**
 * The console's entry point: asks whether a session exists, shows the sign-in form or the app, and
 * routes between pages by the URL hash (#/fleet, #/node/<id>, #/approvals, #/audit, #/activity,
 * #/escrow). Nothing secret is ever put in the URL or in browser storage.
 */
import './styles.css';
import type { RequestJson, SessionInfo } from '../api-types';
import { ApiError, createApi } from './api';
import type { App, Page } from './app';
import { h, link, replace } from './dom';
import { openLive, type Live, type LiveStatus } from './live';
import { renderActivity } from './pages/activity';
import { renderApprovals } from './pages/approvals';
import { renderAudit } from './pages/audit';
import { openChangeDialog } from './pages/change-dialog';
import { renderEscrow } from './pages/escrow';
import { renderFleet } from './pages/fleet';
import { renderNode } from './pages/node';
import { renderSignIn } from './pages/signin';

const main = document.getElementById('main') as HTMLElement;
const topbar = document.getElementById('topbar') as HTMLElement;
const toasts = document.getElementById('toasts') as HTMLElement;

const ROUTES: Record<string, { page: Page; title: string }> = {
  fleet: { page: renderFleet, title: 'Fleet' },
  node: { page: renderNode, title: 'Node' },
  approvals: { page: renderApprovals, title: 'Approvals' },
  audit: { page: renderAudit, title: 'Audit' },
  activity: { page: renderActivity, title: 'Activity' },
  escrow: { page: renderEscrow, title: 'Escrow' },
};

let running: { app: App; live: Live; cleanup?: () => void; stopNav: () => void } | undefined;

function toast(text: string, kind: 'ok' | 'error' | 'info' = 'info'): void {
  const t = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : undefined }, text);
  toasts.appendChild(t);
  setTimeout(() => t.remove(), kind === 'error' ? 10_000 : 5_000);
}

const api = createApi(() => ended('Your session ended (signed out, idle or expired). Sign in again.'));

function ended(notice: string): void {
  if (!running) return;
  teardown();
  renderSignIn(api, main, start, notice);
}

function teardown(): void {
  if (!running) return;
  running.cleanup?.();
  running.live.close();
  running.stopNav();
  running = undefined;
  api.setCsrf(undefined);
  topbar.hidden = true;
  topbar.replaceChildren();
  document.title = 'fleetpass console';
}

function route(): void {
  if (!running) return;
  const hash = location.hash;
  if (hash && !hash.startsWith('#/')) return; // in-page anchors (skip link)
  const [name, ...params] = (hash.slice(2) || 'fleet').split('/').map(decodeURIComponent);
  const r = ROUTES[name] ?? ROUTES.fleet;
  running.cleanup?.();
  running.cleanup = undefined;
  for (const a of topbar.querySelectorAll('nav a')) {
    if (a.getAttribute('data-route') === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${r.title} · fleetpass`;
  main.replaceChildren();
  running.cleanup = r.page(running.app, main, params) ?? undefined;
  main.focus({ preventScroll: true });
}

function liveBadge(live: Live): HTMLElement {
  const el = h('span', { class: 'live-status', id: 'live-status', role: 'status' });
  const show = (s: LiveStatus) => {
    el.className = `live-status ${s}`;
    el.textContent =
      s === 'live'
        ? '● Live'
        : s === 'connecting'
          ? '○ Connecting…'
          : s === 'reconnecting'
            ? '○ Reconnecting…'
            : '○ Offline';
  };
  show(live.status());
  live.onStatus(show);
  return el;
}

function start(session: SessionInfo): void {
  teardown();
  api.setCsrf(session.csrfToken);
  const live = openLive(() => ended('Your session ended. Sign in again.'));
  const app: App = { api, session, live, toast, openChange: (target) => openChangeDialog(app, target) };
  const pendingBadge = h('span', { class: 'badge', id: 'pending-count', hidden: true });
  const refreshPending = () => {
    api.get<{ requests: RequestJson[] }>('/api/requests?view=pending').then(
      (r) => {
        const n = r.requests.length;
        pendingBadge.hidden = n === 0;
        pendingBadge.textContent = String(n);
        pendingBadge.setAttribute('aria-label', `${n} waiting`);
      },
      () => undefined,
    );
  };
  const signOut = h('button', { type: 'button', class: 'link-button', id: 'sign-out' }, 'Sign out');
  signOut.addEventListener('click', () => {
    api.send('DELETE', '/api/session').then(
      () => {
        teardown();
        renderSignIn(api, main, start, 'You are signed out.');
      },
      (e: unknown) => toast(e instanceof ApiError ? e.toString() : 'Sign-out failed', 'error'),
    );
  });
  const navLink = (route: string, text: string, extra?: HTMLElement) => {
    const a = link(`/${route}`, text, extra ?? null);
    a.setAttribute('data-route', route);
    return a;
  };
  replace(
    topbar,
    h('span', { class: 'brand' }, 'fleetpass'),
    h(
      'nav',
      { 'aria-label': 'Console' },
      navLink('fleet', 'Fleet'),
      navLink('approvals', 'Approvals ', pendingBadge),
      session.abilities.auditRead ? navLink('audit', 'Audit') : null,
      navLink('activity', 'Activity'),
      session.abilities.escrowRead ? navLink('escrow', 'Escrow') : null,
    ),
    h(
      'div',
      { class: 'who' },
      liveBadge(live),
      h('span', { id: 'whoami' }, `${session.operator} (${session.role})`),
      signOut,
    ),
  );
  topbar.hidden = false;
  refreshPending();
  const stopLive = live.on((e) => {
    if (e.type === 'request') refreshPending();
  });
  window.addEventListener('hashchange', route);
  running = {
    app,
    live,
    stopNav: () => {
      window.removeEventListener('hashchange', route);
      stopLive();
    },
  };
  route();
}

api.get<SessionInfo>('/api/session').then(start, (e: unknown) => {
  if (e instanceof ApiError && e.status !== 401) toast(e.toString(), 'error');
  renderSignIn(api, main, start);
});
