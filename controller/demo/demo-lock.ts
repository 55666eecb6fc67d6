/**
 * `fleetpass-demo lock --node N --account A`: locks a demo account again the way the demo did at start,
 * with real failed logins through pamtester inside the running node's PAM sandbox (the demo's locks end
 * by themselves after pam_faillock's unlock_time). Works from another terminal: it finds the running demo
 * through `<stateDir>/demo/status.json`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetpassError } from '../../shared/errors';
import { failLoginsIn } from '../../shared/pam-sandbox';
import { DEMO_ACCOUNTS, DEMO_DENY, DEMO_UNLOCK_SECONDS } from './demo-fleet';

/** What the running demo writes for tests, scripts and this command. */
export interface DemoStatus {
  demoPid: number;
  cliConfig: string;
  approverCliConfig: string;
  adminAddress: string;
  webUrl: string;
  agentAddress: string;
  nodes: Array<{
    id: string;
    site: string;
    sandboxPid: number;
    agentPid: number;
    pamService: string;
    locked: string[];
  }>;
}

/** The status file of the demo whose state is under `stateDir`. */
export function demoStatusFile(stateDir: string): string {
  return join(stateDir, 'demo', 'status.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The status of the running demo; FP_DEMO_NOT_RUNNING when there is none here. */
export function readRunningDemo(stateDir: string): DemoStatus {
  let status: DemoStatus;
  try {
    status = JSON.parse(readFileSync(demoStatusFile(stateDir), 'utf8')) as DemoStatus;
  } catch {
    throw new FleetpassError(
      'FP_DEMO_NOT_RUNNING',
      `no demo has run with its state in ${stateDir}; start it with npm start`,
    );
  }
  if (!Number.isInteger(status.demoPid) || !alive(status.demoPid))
    throw new FleetpassError(
      'FP_DEMO_NOT_RUNNING',
      `the demo with its state in ${stateDir} is not running; start it with npm start`,
    );
  return status;
}

export interface DemoLockResult {
  nodeId: string;
  account: string;
  failures: number;
  /** When pam_faillock lets the account in again by itself: the last failure plus unlock_time. */
  lockEnds: Date;
}

/** Locks `account` on demo node `nodeId` with DEMO_DENY real failed logins. */
export async function lockDemoAccount(stateDir: string, nodeId: string, account: string): Promise<DemoLockResult> {
  const status = readRunningDemo(stateDir);
  const node = status.nodes.find((n) => n.id === nodeId);
  if (!node)
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `"${nodeId}" is not a demo node; the demo nodes are ${status.nodes.map((n) => n.id).join(', ') || 'none (no demo fleet)'}`,
    );
  if (!(DEMO_ACCOUNTS as readonly string[]).includes(account))
    throw new FleetpassError(
      'FP_INVALID_ARGUMENT',
      `"${account}" is not a demo account; the demo accounts are ${DEMO_ACCOUNTS.join(', ')}`,
    );
  await failLoginsIn(node.sandboxPid, node.pamService, account, DEMO_DENY, { rhost: '10.0.0.99' });
  return { nodeId, account, failures: DEMO_DENY, lockEnds: new Date(Date.now() + DEMO_UNLOCK_SECONDS * 1000) };
}
