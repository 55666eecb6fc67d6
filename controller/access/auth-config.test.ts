import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadControllerConfig } from '../config';
import { roleForGroups } from './auth-config';

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fp-auth-cfg-'));
  const f = join(dir, 'controller.yaml');
  writeFileSync(f, text);
  return f;
}

const OIDC = `auth:
  oidc:
    issuer: https://login.example.org/realms/lab
    name: Keycloak
    clientId: fleetpass
    clientSecretFile: ./oidc-secret
    groupRoles:
      lab-it: operator
      lab-leads: approver
      fleet-admins: admin
`;

function problems(f: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadControllerConfig({ file: f, env });
  } catch (e) {
    expect(e).toMatchObject({ code: 'FP_CONFIG_INVALID' });
    return (e as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('auth config', () => {
  it('keeps token sign-in with no provider by default', () => {
    const { config } = loadControllerConfig({ env: {} });
    expect(config.auth).toEqual({ tokenSignIn: true, sessionMaxAgeSeconds: 28_800 });
  });

  it('reads a provider with defaults for scopes, claims and timeouts, and resolves the secret file', () => {
    const f = file(OIDC);
    const { config } = loadControllerConfig({ file: f, env: {}, cwd: '/etc/fleetpass' });
    expect(config.auth.oidc).toMatchObject({
      issuer: 'https://login.example.org/realms/lab',
      clientSecretFile: '/etc/fleetpass/oidc-secret',
      scopes: ['openid', 'profile', 'email'],
      userClaim: 'preferred_username',
      groupsClaim: 'groups',
      loginTimeoutSeconds: 600,
      cliTokenSeconds: 28_800,
    });
  });

  it('takes the client secret from FLEETPASS_AUTH__OIDC__CLIENT_SECRET', () => {
    const f = file(OIDC.replace('    clientSecretFile: ./oidc-secret\n', ''));
    const { config } = loadControllerConfig({ file: f, env: { FLEETPASS_AUTH__OIDC__CLIENT_SECRET: 's3cret-value' } });
    expect(config.auth.oidc?.clientSecret).toBe('s3cret-value');
  });

  it('refuses a client secret written in the config file, without echoing it', () => {
    const f = file(OIDC.replace('clientSecretFile: ./oidc-secret', 'clientSecret: hunter2-in-file'));
    const msg = problems(f);
    expect(msg).toContain('auth.oidc.clientSecret: a secret must not be written in the config file');
    expect(msg).not.toContain('hunter2');
  });

  it('names every bad key: http issuer, no secret, unknown role, scopes without openid, bad domain', () => {
    const f = file(`auth:
  tokenSignIn: false
  oidc:
    issuer: http://login.example.org
    clientId: fleetpass
    scopes: [profile]
    allowedDomains: [Example.ORG]
    groupRoles:
      lab-it: superuser
`);
    const msg = problems(f);
    expect(msg).toContain('auth.oidc.issuer: must be an https:// URL');
    expect(msg).toContain('auth.oidc.scopes: must include "openid"');
    expect(msg).toContain('auth.oidc.allowedDomains.0: must be a lower-case domain name');
    expect(msg).toContain('auth.oidc.groupRoles.lab-it');
  });

  it('needs exactly one source for the secret, and a provider when token sign-in is off', () => {
    expect(problems(file(OIDC.replace('    clientSecretFile: ./oidc-secret\n', '')))).toContain(
      'needs the client secret either in a file',
    );
    expect(problems(file('auth:\n  tokenSignIn: false\n'))).toContain('tokenSignIn: false needs auth.oidc');
  });

  it('maps groups to the strongest role they give, and nothing for unmapped groups', () => {
    const map = { 'lab-it': 'operator', 'lab-leads': 'approver', 'fleet-admins': 'admin', readers: 'viewer' } as const;
    expect(roleForGroups(map, ['readers', 'lab-leads', 'lab-it'])).toEqual({ role: 'approver', group: 'lab-leads' });
    expect(roleForGroups(map, ['lab-leads', 'fleet-admins'])).toEqual({ role: 'admin', group: 'fleet-admins' });
    expect(roleForGroups(map, ['marketing', 'toString', '__proto__'])).toBeUndefined();
  });
});
