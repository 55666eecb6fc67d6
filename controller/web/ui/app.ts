/** What every page gets: the API, the signed-in session, the live feed, and a few app-wide actions. */
import type { SessionInfo } from '../api-types';
import type { Api } from './api';
import type { Live } from './live';

export interface ChangeTarget {
  nodeIds: string[];
  /** Hostnames to show, by node id. */
  names?: Record<string, string>;
  account?: string;
  backend?: 'linux' | 'ssr' | 'lrm';
  action?: 'unlock' | 'reset_password';
}

export interface App {
  api: Api;
  session: SessionInfo;
  live: Live;
  toast(text: string, kind?: 'ok' | 'error' | 'info'): void;
  /** Opens the unlock / reset dialog for one account on some nodes. */
  openChange(target: ChangeTarget): void;
}

/** A page draws into `main` and returns its cleanup (listeners, timers). */
export type Page = (app: App, main: HTMLElement, params: string[]) => (() => void) | void;
