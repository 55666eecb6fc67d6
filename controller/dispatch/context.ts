/** What the dispatch functions share: storage, audit, the vault, the live node channels, events, time. */
import type { Clock } from '../../shared/clock';
import type { ConnectResponse } from '../../shared/gen/fleetpass/v1/agent';
import type { Logger } from '../../shared/logger';
import type { AuditLog } from '../audit';
import type { Store } from '../store';
import type { EventBus } from './events';
import type { SecretVault } from './secret-vault';

/** A connected node's outbound side; `send` queues without blocking and returns false once closed. */
export interface NodeChannel {
  send(message: ConnectResponse): boolean;
}

export interface NodeChannels {
  get(nodeId: string): NodeChannel | undefined;
}

export interface DispatchSettings {
  /** Default time an operation may wait for its node. */
  operationTtlSeconds: number;
  /** After expiry, how long a dispatched operation may still report. */
  resultGraceSeconds: number;
  /** Operations per transaction while dispatching a wave (default 200). */
  batchSize?: number;
}

export interface DispatchDeps {
  store: Store;
  audit: AuditLog;
  vault: SecretVault;
  channels: NodeChannels;
  events: EventBus;
  clock: Clock;
  log: Logger;
  settings: DispatchSettings;
}

/** The audit actor for things a node says. */
export function nodeActor(nodeId: string): string {
  return `node:${nodeId}`;
}

export const CONTROLLER_ACTOR = 'controller';
