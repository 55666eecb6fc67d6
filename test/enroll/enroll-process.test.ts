/**
 * Enrollment end to end with the built agent (`node dist/fleetpass-agent.js enroll`, then `run`) against
 * a real controller over loopback: the token from a file or stdin (never argv), the CA pinned by
 * fingerprint and checked before the token is sent, key/certificate/CA stored where the config says (key
 * 0600), and the node online over mutual TLS with its token's labels. Refusals leave the token unused.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:tls';
import { certificateFingerprint, createCa, createKeyAndCsr, issueServerCertificate } from '../../shared/pki';
import { callEnroll } from '../../agent/enroll/agent-calls';
import { listEnrollmentTokens } from '../../controller/enroll';
import { createAgentHarness, type AgentHarness, type SpawnedAgent } from '../helpers/agent-harness';
import { removeRoot, startTestController, type TestController } from '../helpers/controller-harness';
import { waitUntil } from '../helpers/wait-until';
import { agentNode, audit, details, makeToken, runAgentCommand, tempRoot } from './support/enroll-fixtures';
import { tokenSecret } from '../helpers/token-secret';

let tc: TestController;
let harness: AgentHarness;
let root: string;
const running: SpawnedAgent[] = [];

beforeAll(async () => {
  tc = await startTestController();
  harness = await createAgentHarness();
  root = tempRoot('fp-enroll-');
});
afterAll(async () => {
  for (const a of running) a.kill();
  await harness.cleanup();
  await tc.stop();
  removeRoot(tc.root);
  removeRoot(root);
});

const tokenState = (id: string) => listEnrollmentTokens(tc.ctx.enrollment.deps).find((t) => t.id === id)?.state;

function tokenFile(name: string, secret: string): string {
  const file = join(root, `${name}.token`);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return file;
}

function enrollArgs(configFile: string, extra: string[] = [], fingerprint = tc.caFingerprint): string[] {
  return ['enroll', '--config', configFile, '--controller', tc.address, '--ca-fingerprint', fingerprint, ...extra];
}

describe('fleetpass-agent enroll', () => {
  it('enrolls with a token file, stores key, certificate and CA, and the agent then connects over mutual TLS', async () => {
    const t = makeToken(tc, { labels: { site: 'lab2' } });
    const node = agentNode(root, 'n1', { address: tc.address, hostname: 'NextSeq-01.lab' });
    const r = await runAgentCommand(enrollArgs(node.configFile, ['--token-file', tokenFile('n1', t.secret)]));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('enrolled as node nextseq-01.lab');
    expect(r.stdout).toContain('labels: site=lab2');
    expect(r.stdout + r.stderr).not.toContain(tokenSecret(t.secret));

    expect(statSync(node.keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(node.caFile, 'utf8')).toBe(tc.ctx.pki.ca.certPem);
    const cert = new X509Certificate(readFileSync(node.certFile));
    expect(cert.subject).toBe('CN=nextseq-01.lab');
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(node.keyFile)))).toBe(true);
    expect(existsSync(`${node.certFile}.new`) || existsSync(`${node.keyFile}.new`)).toBe(false);
    expect(tokenState(t.token.id)).toBe('used');

    const agent = harness.spawnRun(node.configFile);
    running.push(agent);
    await waitUntil(
      () => tc.ctx.store.nodes.get('nextseq-01.lab')?.online,
      15_000,
      'the enrolled agent to come online',
    );
    expect(tc.ctx.store.nodes.get('nextseq-01.lab')?.labels).toEqual({ site: 'lab2' });
    const connected = audit(tc, 'node.connected').filter((x) => x.nodeId === 'nextseq-01.lab');
    expect(details(connected[0]).fingerprint).toBe(certificateFingerprint(readFileSync(node.certFile, 'utf8')));
    agent.sigterm();
    expect((await agent.waitForExit()).code).toBe(0);
  });

  it('takes the token on stdin, and accepts the fingerprint in the colon form', async () => {
    const t = makeToken(tc);
    const node = agentNode(root, 'n2', { address: tc.address, hostname: 'nx-stdin' });
    const colons = `sha256:${tc.caFingerprint.slice(7).toUpperCase().match(/../g)!.join(':')}`;
    const r = await runAgentCommand(enrollArgs(node.configFile, [], colons), { stdin: `${t.secret}\n` });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(tc.ctx.store.nodes.get('nx-stdin')).toBeDefined();
  });

  it('refuses a wrong CA fingerprint before sending anything: the token stays unused and nothing is written', async () => {
    const t = makeToken(tc);
    const node = agentNode(root, 'n3', { address: tc.address, hostname: 'nx-pin' });
    const before = tc.ctx.audit.query({ limit: 1000 }).records.length;
    const r = await runAgentCommand(
      enrollArgs(node.configFile, ['--token-file', tokenFile('n3', t.secret)], `sha256:${'ab'.repeat(32)}`),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error FP_CA_FINGERPRINT_MISMATCH: the controller at ${tc.address} presented CA ${tc.caFingerprint}, not the pinned sha256:${'ab'.repeat(32)}; nothing was sent to it`,
    );
    // The controller never heard of it: no audit record, the token unused, no files.
    expect(tc.ctx.audit.query({ limit: 1000 }).records.length).toBe(before);
    expect(tokenState(t.token.id)).toBe('active');
    expect([node.keyFile, node.certFile, node.caFile].filter((f) => existsSync(f))).toEqual([]);
    // The same token still works with the right pin.
    expect((await runAgentCommand(enrollArgs(node.configFile, ['--token-file', tokenFile('n3', t.secret)]))).code).toBe(
      0,
    );
  });

  it('refuses to talk to a controller whose certificate does not name the host it expects', async () => {
    const t = makeToken(tc);
    const node = agentNode(root, 'n4', {
      address: tc.address,
      hostname: 'nx-name',
      extra: {
        controller: {
          address: tc.address,
          serverName: 'fleetpass.elsewhere.example',
          caFile: join(root, 'n4/ca.crt'),
          certFile: join(root, 'n4/node.crt'),
          keyFile: join(root, 'n4/node.key'),
        },
      },
    });
    const r = await runAgentCommand(enrollArgs(node.configFile, ['--token-file', tokenFile('n4', t.secret)]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error FP_CONTROLLER_CERT_INVALID: the controller's certificate is not valid for fleetpass.elsewhere.example/,
    );
    expect(tokenState(t.token.id)).toBe('active');
  });

  it('never takes the token from argv, and says why', async () => {
    const t = makeToken(tc);
    const node = agentNode(root, 'n5', { address: tc.address, hostname: 'nx-argv' });
    const r = await runAgentCommand(enrollArgs(node.configFile, ['--token', t.secret]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the enrollment token is a secret and is not taken on the command line');
    expect(r.stdout + r.stderr).not.toContain(t.secret);
    expect(tokenState(t.token.id)).toBe('active');
  });

  it('explains a used token, and will not replace an existing certificate without --force', async () => {
    const t = makeToken(tc);
    const first = agentNode(root, 'n6', { address: tc.address, hostname: 'nx-once' });
    expect(
      (await runAgentCommand(enrollArgs(first.configFile, ['--token-file', tokenFile('n6', t.secret)]))).code,
    ).toBe(0);
    const second = agentNode(root, 'n7', { address: tc.address, hostname: 'nx-twice' });
    const reused = await runAgentCommand(enrollArgs(second.configFile, ['--token-file', tokenFile('n7', t.secret)]));
    expect(reused.code).toBe(1);
    expect(reused.stderr.trim()).toBe(
      'error FP_TOKEN_INVALID: the enrollment token was already used; ask an admin for a new one',
    );
    expect(details(audit(tc, 'enrollment.refused').at(-1)!)).toMatchObject({ why: 'used', tokenId: t.token.id });

    const fresh = makeToken(tc);
    const again = await runAgentCommand(enrollArgs(first.configFile, ['--token-file', tokenFile('n6b', fresh.secret)]));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error FP_ALREADY_ENROLLED');
    expect(tokenState(fresh.token.id)).toBe('active');
  });

  it('sends nothing to an impostor that shows the real CA certificate in its chain without holding its key', async () => {
    // The impostor copies the public CA certificate into its chain, but its own certificate is signed by another CA.
    const fake = await issueServerCertificate(await createCa({ commonName: 'fleetpass CA' }), {
      hosts: ['localhost', '127.0.0.1'],
    });
    let bytes = 0;
    const impostor: Server = createServer(
      { cert: `${fake.certPem.trimEnd()}\n${tc.ctx.pki.ca.certPem}`, key: fake.keyPem, ALPNProtocols: ['h2'] },
      (socket) => {
        socket.on('data', (d: Buffer) => (bytes += d.length));
        socket.on('error', () => undefined);
      },
    );
    await new Promise<void>((res) => impostor.listen(0, '127.0.0.1', res));
    const address = `127.0.0.1:${(impostor.address() as { port: number }).port}`;
    try {
      const t = makeToken(tc);
      const node = agentNode(root, 'n8', { address, hostname: 'nx-fooled' });
      const r = await runAgentCommand([
        'enroll',
        '--config',
        node.configFile,
        '--controller',
        address,
        '--ca-fingerprint',
        tc.caFingerprint,
        '--token-file',
        tokenFile('n8', t.secret),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `error FP_CA_FINGERPRINT_MISMATCH: the controller at ${address} presented no CA certificate that signed its server certificate, not the pinned ${tc.caFingerprint}; nothing was sent to it`,
      );
      // Even a client that skipped that check sends nothing: the call itself trusts only the pinned CA.
      const { csrPem } = await createKeyAndCsr({ commonName: 'x' });
      await expect(
        callEnroll({ address, timeoutMs: 3000 }, tc.ctx.pki.ca.certPem, { token: t.secret, csrPem, hostname: 'x' }),
      ).rejects.toMatchObject({ code: 'FP_UNAVAILABLE' });
      expect(bytes).toBe(0);
      expect(tokenState(t.token.id)).toBe('active');
    } finally {
      impostor.close();
    }
  });
});
