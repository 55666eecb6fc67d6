/**
 * The console's calls to its own /api: JSON in and out, the CSRF token (kept in memory only) on every
 * change, errors as ApiError with the server's FP_ code and sentence. A 401 tells the app the session
 * ended so it can show the sign-in form.
 */
import type { ApiErrorJson } from '../api-types';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly retryable = false,
  ) {
    super(message);
  }

  /** "FP_CODE: sentence", as everywhere in fleetpass. */
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** POSTs `body` and saves the answer as a file (name from Content-Disposition). */
  download(path: string, body: unknown, fallbackName: string): Promise<{ name: string; bytes: number }>;
  setCsrf(token: string | undefined): void;
}

async function failure(res: Response): Promise<ApiError> {
  let body: ApiErrorJson | undefined;
  try {
    body = (await res.json()) as ApiErrorJson;
  } catch {
    // not JSON (a proxy page, a dropped connection)
  }
  const e = body?.error;
  return new ApiError(
    e?.code ?? 'FP_INTERNAL',
    e?.message ?? `the console answered ${res.status}`,
    res.status,
    e?.retryable ?? false,
  );
}

export function createApi(onSessionEnded: (e: ApiError) => void): Api {
  let csrf: string | undefined;

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
      });
    } catch {
      throw new ApiError('FP_UNAVAILABLE', 'cannot reach the controller; check the connection and try again', 0, true);
    }
    if (!res.ok) {
      const err = await failure(res);
      if (res.status === 401 && path !== '/api/session') onSessionEnded(err);
      throw err;
    }
    return res;
  }

  return {
    async get<T>(path: string): Promise<T> {
      return (await (await call('GET', path)).json()) as T;
    },
    async send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
      return (await (await call(method, path, body ?? {})).json()) as T;
    },
    async download(path, body, fallbackName) {
      const res = await call('POST', path, body);
      const blob = await res.blob();
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return { name, bytes: blob.size };
    },
    setCsrf(token) {
      csrf = token;
    },
  };
}
