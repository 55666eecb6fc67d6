/**
 * Operator credentials over real TLS: an operator client certificate (OU=fleetpass-operator, signed by the
 * controller CA) signs in without a token, through the CLI too; a node certificate never does, even when its
 * CN is an operator's name; a certificate from another CA, an expired token and a token after its operator
 * is disabled are refused. A flood of failed sign-ins is audited one by one up to a limit, then summarised,
 * and the source is refused unchecked until its window ends.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { fakeClock } from '../../shared/clock';
import { fromGrpcError, type FleetpassError } from '../../shared/errors';
import type { WhoAmIResponse } from '../../shared/gen/fleetpass/v1/admin';
import { createCa, issueClientCertificate } from '../../shared/pki';
import { issueApiToken } from '../../controller/access/api-tokens';
import { issueOperatorCertificate } from '../../controller/access/operator-certs';
import { createOperatorsRepo } from '../../controller/store/operators-repo';
import { removeRoot } from '../helpers/controller-harness';
import { adminClient, bearer, startOperatorEnv, tokenOf, type OperatorEnv } from './support/operator-harness';
import { tokenSecret } from '../helpers/token-secret';

let env: OperatorEnv;

function whoAmI(tls: { keyPem?: string; certPem?: string }, token?: string): Promise<WhoAmIResponse> {
  const c = adminClient(env, tls);
  return new Promise<WhoAmIResponse>((res, rej) =>
    c.whoAmI({}, bearer(token), (e, r) => (e ? rej(fromGrpcError(e)) : res(r))),
  ).finally(() => c.close());
}

const lastAuthFailure = () =>
  JSON.parse(
    env.tc.ctx.audit.query({ filter: { action: 'auth.failed' }, descending: true, limit: 1 }).records[0].detailsJson,
  );

beforeAll(async () => {
  env = await startOperatorEnv({ admin: { floodLimits: { auditedPerWindow: 1000, blockAfter: 10_000 } } });
  env.addOperator('otto', 'operator');
});

afterAll(async () => {
  await env?.stop();
  if (env) removeRoot(env.tc.root);
});

describe('operator client certificates', () => {
  it('sign in as the operator they name, without a token, through the CLI too', async () => {
    const pair = await issueOperatorCertificate(env.tc.ctx.pki.ca, 'otto');
    await expect(whoAmI(pair)).resolves.toMatchObject({ operator: { name: 'otto' } });
    const dir = join(env.tc.root, 'otto-cert');
    mkdirSync(dir);
    writeFileSync(join(dir, 'otto.crt'), pair.certPem);
    writeFileSync(join(dir, 'otto.key'), pair.keyPem, { mode: 0o600 });
    const config = join(dir, 'cli.yaml');
    writeFileSync(
      config,
      stringify({
        controller: env.adminAddress,
        caFile: join(env.tc.stateDir, 'pki', 'ca.crt'),
        certFile: join(dir, 'otto.crt'),
        keyFile: join(dir, 'otto.key'),
      }),
    );
    const r = await env.cli('otto', ['whoami'], { env: { FLEETPASS_CONFIG: config } });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`otto (operator) at ${env.adminAddress}`);
  });

  it('a node certificate never signs in as an operator, even with an operator name as its CN', async () => {
    for (const cn of ['nextseq-1', 'otto']) {
      const node = await issueClientCertificate(env.tc.ctx.pki.ca, { commonName: cn });
      await expect(whoAmI(node)).rejects.toMatchObject({ code: 'FP_UNAUTHENTICATED' });
      expect(lastAuthFailure()).toMatchObject({ why: 'certificate-not-operator', method: 'certificate' });
    }
  });

  it('refuses an operator certificate from another CA', async () => {
    const otherCa = await createCa({ commonName: 'not fleetpass' });
    const forged = await issueOperatorCertificate(otherCa, 'otto');
    await expect(whoAmI(forged)).rejects.toMatchObject({ code: 'FP_UNAUTHENTICATED' });
    // The TLS layer already drops a certificate it cannot verify; the authenticator would refuse it too.
    expect(['no-credential', 'certificate-untrusted']).toContain(lastAuthFailure().why);
  });

  it('a token wins over a certificate, and a bad token does not fall back to it', async () => {
    const pair = await issueOperatorCertificate(env.tc.ctx.pki.ca, 'otto');
    await expect(whoAmI(pair, tokenOf(env, 'root-admin'))).resolves.toMatchObject({ operator: { name: 'root-admin' } });
    await expect(
      whoAmI(pair, 'fpt_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ).rejects.toMatchObject({ code: 'FP_UNAUTHENTICATED' });
    expect(lastAuthFailure()).toMatchObject({ why: 'token-unknown', tokenId: '0000000000000000' });
  });
});

describe('tokens', () => {
  it('are stored only as a salted hash', () => {
    const token = tokenOf(env, 'otto');
    const secret = tokenSecret(token);
    const rows = env.tc.ctx.store.db.prepare('SELECT * FROM api_tokens').all() as Array<Record<string, unknown>>;
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(rows)).not.toContain(secret);
    for (const r of rows) expect((r.hash as Buffer).length).toBe(32);
  });

  it('refuses an expired token and records when a good one was last used', async () => {
    const repo = createOperatorsRepo(env.tc.ctx.store.db);
    const old = issueApiToken(repo, 'otto', { createdBy: 'test', ttlSeconds: 60, now: new Date(Date.now() - 120_000) });
    await expect(whoAmI({}, old.token)).rejects.toMatchObject({ code: 'FP_UNAUTHENTICATED' });
    expect(lastAuthFailure()).toMatchObject({ why: 'token-expired', tokenId: old.id });
    const id = tokenOf(env, 'otto').split('_')[1];
    await whoAmI({}, tokenOf(env, 'otto'));
    expect(repo.getToken(id)?.lastUsed).toBeTruthy();
  });
});

describe('a flood of failed sign-ins', () => {
  let main: OperatorEnv;
  const floodClock = fakeClock(new Date());
  beforeAll(async () => {
    main = env;
    // The window runs on the injected clock, moved by hand: real time would end it early on a loaded machine.
    env = await startOperatorEnv({
      clock: floodClock,
      admin: { floodLimits: { windowMs: 60_000, auditedPerWindow: 3, blockAfter: 6 } },
    });
    env.addOperator('otto', 'operator');
  });
  afterAll(async () => {
    await env.stop();
    removeRoot(env.tc.root);
    env = main;
  });

  it('audits the first ones, blocks the source for its window, then summarises what was not audited one by one', async () => {
    const count = () => env.tc.ctx.audit.query({ filter: { action: 'auth.failed' }, limit: 1000 }).records.length;
    const before = count();
    const codes: string[] = [];
    for (let i = 0; i < 8; i++)
      codes.push(
        await whoAmI({}, `fpt_${'1'.repeat(16)}_${'B'.repeat(43)}`).then(
          () => 'ok',
          (e: FleetpassError) => e.code,
        ),
      );
    expect(codes).toEqual([...Array(6).fill('FP_UNAUTHENTICATED'), 'FP_RATE_LIMITED', 'FP_RATE_LIMITED']);
    expect(count()).toBe(before + 3);
    // Even a good token is refused unchecked while the source is blocked...
    await expect(whoAmI({}, tokenOf(env, 'otto'))).rejects.toMatchObject({ code: 'FP_RATE_LIMITED' });
    floodClock.advance(60_001);
    // ...and works again in the next window.
    await expect(whoAmI({}, tokenOf(env, 'otto'))).resolves.toMatchObject({ operator: { name: 'otto' } });
    await expect(whoAmI({})).rejects.toMatchObject({ code: 'FP_UNAUTHENTICATED' });
    const recent = env.tc.ctx.audit
      .query({ filter: { action: 'auth.failed' }, descending: true, limit: 2 })
      .records.map((r) => JSON.parse(r.detailsJson));
    expect(recent[1]).toMatchObject({ summary: true, failures: 9, notAuditedOneByOne: 6, source: '127.0.0.1' });
    expect(recent[0]).toMatchObject({ why: 'no-credential' });
  });
});
