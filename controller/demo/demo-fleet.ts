/**
 * The demo fleet: a few NextSeq-like nodes, each a real agent process inside its own PAM sandbox
 * (shared/pam-sandbox) with real accounts and real pam_faillock, some locked by real failed logins.
 * Node certificates are signed from the controller CA directly (production nodes enroll with tokens).
 */
import { closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import type { Logger } from '../../shared/logger';
import { openPrivateLogFile } from '../../shared/private-log-file';
import { createPamSandbox, type PamSandbox } from '../../shared/pam-sandbox';
import { issueClientCertificate, writeSecureFile, type CertAndKey } from '../../shared/pki';

export interface DemoNodeSpec {
  id: string;
  site: string;
  /** Accounts locked at start by this many real failed logins (the deny threshold). */
  lockedAccounts: string[];
}

/** NextSeq 1000/2000 lock after 10 failed logins for 10 minutes (Illumina KB 000003297). */
export const DEMO_DENY = 10;
export const DEMO_UNLOCK_SECONDS = 600;
export const DEMO_ACCOUNTS = ['ilmnuser', 'ilmnadmin'] as const;

export const DEFAULT_DEMO_NODES: readonly DemoNodeSpec[] = [
  { id: 'nextseq-a1', site: 'bldg4', lockedAccounts: ['ilmnuser'] },
  { id: 'nextseq-a2', site: 'bldg4', lockedAccounts: [] },
  { id: 'nextseq-b1', site: 'bldg7', lockedAccounts: ['ilmnuser', 'ilmnadmin'] },
];

export interface DemoNode {
  spec: DemoNodeSpec;
  sandbox: PamSandbox;
  agent: ChildProcess;
  dir: string;
}

export interface DemoFleetOptions {
  dir: string;
  ca: CertAndKey;
  controllerAddress: string;
  agentBundle: string;
  nodes: readonly DemoNodeSpec[];
  log: Logger;
}

/** The labels of a demo node: set by the demo as an admin (what --label selects), and reported by its agent too. */
export function demoLabels(spec: DemoNodeSpec): Record<string, string> {
  return { site: spec.site, model: 'nextseq-2000', demo: 'true' };
}

/** The initial password of a demo account; printed by the demo so people can try the lockout themselves. */
export function demoPassword(account: string): string {
  return `Demo-${account}-2026`;
}

/** The PAM service the demo sandboxes write and log in through. */
const DEMO_PAM_SERVICE = 'fleetpass-test';

async function writeNodeFiles(opts: DemoFleetOptions, spec: DemoNodeSpec, dir: string): Promise<string> {
  mkdirSync(join(dir, 'state'), { recursive: true, mode: 0o700 });
  const cert = await issueClientCertificate(opts.ca, { commonName: spec.id });
  const files = { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'node.crt'), keyFile: join(dir, 'node.key') };
  writeSecureFile(files.caFile, opts.ca.certPem, 0o644);
  writeSecureFile(files.certFile, cert.certPem, 0o644);
  writeSecureFile(files.keyFile, cert.keyPem);
  const config = {
    controller: { address: opts.controllerAddress, serverName: 'localhost', ...files },
    stateDir: join(dir, 'state'),
    hostname: spec.id,
    platform: 'nextseq-2000',
    labels: demoLabels(spec),
    reportIntervalSeconds: 60,
    changeCheckSeconds: 5,
    // The sandbox's own PAM service is the node's login service (the host's sshd/login files are Debian's, without pam_faillock).
    backends: { linux: { pamServices: [DEMO_PAM_SERVICE] } },
    policy: {
      allowRoot: false,
      accounts: DEMO_ACCOUNTS.map((account) => ({
        backend: 'linux',
        account,
        actions: ['unlock', 'reset_password', 'refresh_state'],
      })),
    },
  };
  const file = join(dir, 'agent.yaml');
  writeSecureFile(file, stringify(config));
  return file;
}

/** Starts one demo node: sandbox, accounts, real failed logins, then the agent inside the sandbox. */
async function startNode(opts: DemoFleetOptions, spec: DemoNodeSpec): Promise<DemoNode> {
  const dir = join(opts.dir, spec.id);
  const configFile = await writeNodeFiles(opts, spec, dir);
  const sandbox = await createPamSandbox({
    users: DEMO_ACCOUNTS.map((name) => ({ name, password: demoPassword(name) })),
    service: DEMO_PAM_SERVICE,
    deny: DEMO_DENY,
    unlockTime: DEMO_UNLOCK_SECONDS,
    log: opts.log,
  });
  try {
    for (const account of spec.lockedAccounts) await sandbox.failLogins(account, DEMO_DENY, { rhost: '10.0.0.99' });
    // A node's agent has its own environment: the controller's FLEETPASS_* settings are not its keys.
    const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
    // The agent writes its log file itself: through a pipe to the demo, a demo that died (its stdout gone
    // after `npm start | tee log` and Ctrl-C) left agents blocked on writes nobody reads, deaf to SIGTERM.
    const logFd = openPrivateLogFile(join(dir, 'agent.log'));
    let agent: ChildProcess;
    try {
      agent = sandbox.spawn([process.execPath, opts.agentBundle, 'run', '--config', configFile], {
        stdio: ['ignore', logFd, logFd],
        env,
      });
    } finally {
      closeSync(logFd);
    }
    return { spec, sandbox, agent, dir };
  } catch (e) {
    await sandbox.destroy();
    throw e;
  }
}

/** Starts every demo node; on failure, stops the ones already started. */
export async function startDemoFleet(opts: DemoFleetOptions): Promise<DemoNode[]> {
  const started: DemoNode[] = [];
  try {
    for (const spec of opts.nodes) started.push(await startNode(opts, spec));
    return started;
  } catch (e) {
    await stopDemoFleet(started);
    throw e;
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Stops agents with SIGTERM (they drain), then removes the sandboxes. */
export async function stopDemoFleet(nodes: readonly DemoNode[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      n.agent.kill('SIGTERM');
      if (!(await waitExit(n.agent, 8000))) {
        n.agent.kill('SIGKILL');
        await waitExit(n.agent, 2000);
      }
      await n.sandbox.destroy();
    }),
  );
}
