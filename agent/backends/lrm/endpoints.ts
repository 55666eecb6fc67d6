/**
 * The one table of Local Run Manager HTTP endpoints. LRM's API behind its web page is NOT publicly
 * documented (only the web page and Illumina KB 000009008 are), so every entry is an assumption that
 * configuration can override (`lrm.endpoints.<name>`) and `fleetpass-agent lrm probe` checks.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** read: safe to call from the probe; session: login/logout of the service account; write: changes LRM data. */
export type EndpointKind = 'read' | 'session' | 'write';

export interface LrmEndpoint {
  readonly method: HttpMethod;
  /** `{username}` is replaced by the URL-encoded, validated account name. */
  readonly path: string;
}

export const LRM_ENDPOINT_NAMES = [
  'loginPage',
  'login',
  'logout',
  'listUsers',
  'getUser',
  'securitySettings',
  'unlockUser',
  'setTemporaryPassword',
] as const;

export type LrmEndpointName = (typeof LRM_ENDPOINT_NAMES)[number];

export type LrmEndpoints = Readonly<Record<LrmEndpointName, LrmEndpoint>>;

export const DEFAULT_LRM_ENDPOINTS: LrmEndpoints = Object.freeze({
  // Documented: "The LRM version is listed at the bottom of the login page" (KB 000009008, step 1).
  loginPage: { method: 'GET', path: '/' },
  // Assumed API (undocumented): JSON {username, password} -> {token, mustChangePassword}.
  login: { method: 'POST', path: '/api/auth/login' },
  logout: { method: 'POST', path: '/api/auth/logout' },
  // Tools > Account Management (documented UI), its data source assumed.
  listUsers: { method: 'GET', path: '/api/users' },
  getUser: { method: 'GET', path: '/api/users/{username}' },
  // Tools > System Settings > Security: allowed login attempts and password reset reminder (documented UI).
  securitySettings: { method: 'GET', path: '/api/settings/security' },
  // Account Management > pencil > "Unlock User" (documented UI).
  unlockUser: { method: 'POST', path: '/api/users/{username}/unlock' },
  // Account Management > pencil > temporary password; the user must change it at next login (documented UI).
  setTemporaryPassword: { method: 'POST', path: '/api/users/{username}/temporary-password' },
});

/** What each endpoint does to LRM, so the probe knows which it may call. */
export const LRM_ENDPOINT_KIND: Readonly<Record<LrmEndpointName, EndpointKind>> = {
  loginPage: 'read',
  login: 'session',
  logout: 'session',
  listUsers: 'read',
  getUser: 'read',
  securitySettings: 'read',
  unlockUser: 'write',
  setTemporaryPassword: 'write',
};

/** The defaults with configured overrides applied, frozen. */
export function resolveEndpoints(overrides: Partial<Record<LrmEndpointName, Partial<LrmEndpoint>>> = {}): LrmEndpoints {
  const out = {} as Record<LrmEndpointName, LrmEndpoint>;
  for (const name of LRM_ENDPOINT_NAMES) {
    out[name] = Object.freeze({ ...DEFAULT_LRM_ENDPOINTS[name], ...stripUndefined(overrides[name] ?? {}) });
  }
  return Object.freeze(out);
}

/** The path with `{username}` filled in; the name must already be validated. */
export function endpointPath(endpoint: LrmEndpoint, username?: string): string {
  return endpoint.path.replace(/\{username\}/g, () => encodeURIComponent(username ?? ''));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
