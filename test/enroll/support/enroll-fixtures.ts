/**
 * TEST ONLY: enrollment fixtures over a real in-process controller (test/helpers/controller-harness):
 * tokens through the real functions, enrollment over the real agent port (in-process gRPC, or the built
 * `fleetpass-agent enroll` with its token on stdin or in a file), agent config files, and raw Connect
 * calls with whatever TLS identity a test wants to try.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { stringify } from 'yaml';
import {
  AgentServiceClient,
  type ConnectRequest,
  type ConnectResponse,
  type RenewResponse,
} from '../../../shared/gen/fleetpass/v1/agent';
import { createKeyAndCsr } from '../../../shared/pki';
import { callEnroll } from '../../../agent/enroll/agent-calls';
import {
  createEnrollmentToken,
  type CreateEnrollmentTokenInput,
  type CreatedEnrollmentToken,
} from '../../../controller/enroll';
import type { AuditRecord } from '../../../controller/audit';
import { AGENT_BUNDLE } from '../../helpers/agent-harness';
import type { NodeCredentials, TestController } from '../../helpers/controller-harness';

/** A token made through the real function, by "admin" unless told otherwise. */
export function makeToken(tc: TestController, input: Partial<CreateEnrollmentTokenInput> = {}): CreatedEnrollmentToken {
  return createEnrollmentToken(tc.ctx.enrollment.deps, { createdBy: 'admin', ...input });
}

/** Enrolls over the real agent port in this process; credentials as the scripted agent wants them. */
export async function enrollHere(tc: TestController, token: string, hostname: string): Promise<NodeCredentials> {
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: hostname });
  const res = await callEnroll({ address: tc.address, serverName: 'localhost' }, tc.ctx.pki.ca.certPem, {
    token,
    csrPem,
    hostname,
  });
  return {
    nodeId: res.nodeId,
    caPem: res.caCertificatePem,
    certPem: res.certificatePem,
    keyPem,
    caFile: '',
    certFile: '',
    keyFile: '',
  };
}

/** The error (or undefined) of an Enroll call with a raw request, over TLS trusting the controller CA. */
export function enrollError(
  tc: TestController,
  token: string,
  csrPem = 'not a csr',
  hostname = 'h1',
): Promise<ServiceError | undefined> {
  const client = new AgentServiceClient(tc.address, credentials.createSsl(Buffer.from(tc.ctx.pki.ca.certPem)), {
    'grpc.ssl_target_name_override': 'localhost',
  });
  return new Promise((res) =>
    client.enroll({ token, csrPem, hostname }, (e) => {
      client.close();
      res(e ?? undefined);
    }),
  );
}

/** Renew with the given client identity (or none); resolves with the answer or the error. */
export function renewWith(
  tc: TestController,
  id: { keyPem: string; certPem: string } | undefined,
  csrPem: string,
): Promise<{ err?: ServiceError; res?: RenewResponse }> {
  const ca = Buffer.from(tc.ctx.pki.ca.certPem);
  const creds = id
    ? credentials.createSsl(ca, Buffer.from(id.keyPem), Buffer.from(id.certPem))
    : credentials.createSsl(ca);
  const client = new AgentServiceClient(tc.address, creds, { 'grpc.ssl_target_name_override': 'localhost' });
  return new Promise((resolve) =>
    client.renew({ csrPem }, (err, res) => {
      client.close();
      resolve(err ? { err } : { res });
    }),
  );
}

/**
 * Opens Connect with the given client identity (or none, `undefined`) and says hello as `nodeId`;
 * resolves with how the stream ended (the error, or undefined when the controller welcomed it).
 */
export function connectOutcome(
  tc: TestController,
  id: { keyPem: string; certPem: string } | undefined,
  nodeId: string,
  timeoutMs = 5000,
): Promise<{ welcomed: boolean; err?: ServiceError }> {
  const ca = Buffer.from(tc.ctx.pki.ca.certPem);
  const creds = id
    ? credentials.createSsl(ca, Buffer.from(id.keyPem), Buffer.from(id.certPem))
    : credentials.createSsl(ca);
  const client = new AgentServiceClient(tc.address, creds, { 'grpc.ssl_target_name_override': 'localhost' });
  const call = client.connect(new Metadata());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      call.cancel();
      client.close();
      reject(new Error('the Connect call neither welcomed nor failed in time'));
    }, timeoutMs);
    const finish = (r: { welcomed: boolean; err?: ServiceError }) => {
      clearTimeout(timer);
      call.cancel();
      client.close();
      resolve(r);
    };
    call.on('data', (m: ConnectResponse) => {
      if (m.message?.$case === 'welcome') finish({ welcomed: true });
    });
    call.on('error', (err: ServiceError) => finish({ welcomed: false, err }));
    const hello: ConnectRequest = {
      message: {
        $case: 'hello',
        hello: {
          nodeId,
          hostname: nodeId,
          platform: 'linux',
          agentVersion: 'test',
          labels: {},
          backends: [],
          policy: [],
          busy: false,
        },
      },
    };
    call.write(hello);
  });
}

/** The controller's FP_ code on a gRPC error. */
export function fpCode(err: ServiceError | undefined): string | undefined {
  const v = err?.metadata?.get('fp-error-code')?.[0];
  return typeof v === 'string' ? v : undefined;
}

export function audit(tc: TestController, action: string): AuditRecord[] {
  return tc.ctx.audit.query({ filter: { action }, limit: 1000 }).records;
}

export function details(r: AuditRecord): Record<string, unknown> {
  return JSON.parse(r.detailsJson) as Record<string, unknown>;
}

/** A node's folder: agent.yaml with its TLS files under state/, linux backend off, fast reconnects. */
export function agentNode(
  root: string,
  name: string,
  config: { address: string; hostname: string; extra?: Record<string, unknown> },
): { dir: string; configFile: string; caFile: string; certFile: string; keyFile: string } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const state = join(dir, 'state');
  const files = { caFile: join(state, 'ca.crt'), certFile: join(state, 'node.crt'), keyFile: join(state, 'node.key') };
  const configFile = join(dir, 'agent.yaml');
  writeFileSync(
    configFile,
    stringify({
      stateDir: state,
      hostname: config.hostname,
      platform: 'linux',
      reconnect: { initialMs: 50, maxMs: 500 },
      controller: { address: config.address, ...files },
      backends: { linux: { enabled: false } },
      ...config.extra,
    }),
  );
  return { dir, configFile, ...files };
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/fleetpass-agent.js <args>` with `stdin` piped in (or closed), to completion. */
export function runAgentCommand(args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<Ran> {
  const child = spawn(process.execPath, [AGENT_BUNDLE, ...args], {
    env: { PATH: process.env.PATH, HOME: tmpdir(), LANG: 'C' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(opts.stdin ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fleetpass-agent ${args[0]} did not finish; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // grpc-js sets the TLS server name to the address even for an IP (127.0.0.1 here); Node warns once.
      resolve({
        code,
        stdout,
        stderr: stderr.replace(/^\(node:\d+\) \[DEP0123\].*\n(\(Use `node --trace-deprecation.*\n)?/m, ''),
      });
    });
  });
}

/** A temporary folder for one test file. */
export function tempRoot(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
