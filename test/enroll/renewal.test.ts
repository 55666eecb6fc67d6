/**
 * Certificate renewal with the built agent: the controller issues short-lived certificates
 * (tls.nodeCertificateDays), the running agent renews before a third of the lifetime is left, over mutual
 * TLS and with no token, swaps key and certificate atomically, and uses them at the next reconnect; the
 * controller then retires the old certificate. Takes about 15 seconds of real time: a certificate lives
 * 7.75 minutes here (5 of them backdated for clock skew), so renewal is due 10 seconds after issue.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { certificateFingerprint } from '../../shared/pki';
import { createAgentHarness, type AgentHarness, type SpawnedAgent } from '../helpers/agent-harness';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { waitUntil } from '../helpers/wait-until';
import {
  agentNode,
  audit,
  connectOutcome,
  details,
  fpCode,
  makeToken,
  runAgentCommand,
  tempRoot,
} from './support/enroll-fixtures';

const LIFETIME_DAYS = 7.75 / 1440;

let tc: TestController;
let harness: AgentHarness;
let root: string;
let agent: SpawnedAgent | undefined;

beforeAll(async () => {
  tc = await startTestController({ config: { tls: { nodeCertificateDays: LIFETIME_DAYS } } });
  harness = await createAgentHarness();
  root = tempRoot('fp-renew-');
});
afterAll(async () => {
  agent?.kill();
  await harness.cleanup();
  await tc.stop();
  removeRoot(tc.root);
  removeRoot(root);
});

describe('certificate renewal', () => {
  it('renews a short-lived certificate before expiry without a token, and the next connection uses it', async () => {
    const t = makeToken(tc);
    const node = agentNode(root, 'r1', { address: tc.address, hostname: 'nx-renew' });
    const tokenFile = join(root, 'r1.token');
    writeFileSync(tokenFile, t.secret, { mode: 0o600 });
    const enrolled = await runAgentCommand([
      'enroll',
      '--config',
      node.configFile,
      '--controller',
      tc.address,
      '--ca-fingerprint',
      tc.caFingerprint,
      '--token-file',
      tokenFile,
    ]);
    expect(enrolled.code).toBe(0);
    const first = { cert: readFileSync(node.certFile, 'utf8'), key: readFileSync(node.keyFile, 'utf8') };
    const firstFp = certificateFingerprint(first.cert);

    agent = harness.spawnRun(node.configFile);
    await waitUntil(() => tc.ctx.store.nodes.get('nx-renew')?.online, 15_000, 'the agent to come online');
    const renewedLog = await agent.waitForLog((l) => l.msg === 'node certificate renewed', 30_000);
    expect(renewedLog).toMatchObject({ nodeId: 'nx-renew', previous: firstFp });

    // New key and certificate on disk, key still 0600; the controller recorded the renewal.
    const second = readFileSync(node.certFile, 'utf8');
    expect(certificateFingerprint(second)).not.toBe(firstFp);
    expect(readFileSync(node.keyFile, 'utf8')).not.toBe(first.key);
    expect(statSync(node.keyFile).mode & 0o777).toBe(0o600);
    const renewed = audit(tc, 'node.certificate_renewed');
    expect(details(renewed[0])).toMatchObject({ previous: firstFp, fingerprint: renewedLog.fingerprint });
    expect(audit(tc, 'enrollment.token_created')).toHaveLength(1); // no new token was involved

    // The open stream still runs on the first certificate; cut it and the agent comes back with the new one.
    expect(audit(tc, 'node.connected').map((r) => details(r).fingerprint)).toEqual([firstFp]);
    tc.ctx.sessions
      .get('nx-renew')!
      .close('test: force a reconnect', { code: status.UNAVAILABLE, details: 'reconnect' });
    await waitUntil(() => audit(tc, 'node.connected').length === 2, 15_000, 'the agent to reconnect');
    const reconnectFp = details(audit(tc, 'node.connected')[1]).fingerprint as string;
    const issued = tc.ctx.enrollment.deps.repo.certificatesOf('nx-renew');
    expect(issued.filter((c) => c.via === 'renew').map((c) => c.fingerprint)).toContain(reconnectFp);
    expect(reconnectFp).not.toBe(firstFp);

    // Once the new certificate is in use, the first one is retired: a copy of the old key is useless.
    expect(tc.ctx.enrollment.deps.repo.getCertificate(firstFp)?.revokedReason).toBe('superseded');
    const old = await connectOutcome(tc, { certPem: first.cert, keyPem: first.key }, 'nx-renew');
    expect(fpCode(old.err)).toBe('FP_CERTIFICATE_REVOKED');

    agent.sigterm();
    expect((await agent.waitForExit()).code).toBe(0);
    agent = undefined;
  });
});
