/**
 * BENCHMARK ONLY: the encoded sizes of the messages a wave exchanges (hello, welcome, an unlock
 * operation, its result), so the bare baseline moves as many bytes per message as fleetpass does.
 */
import { randomUUID } from 'node:crypto';
import { ConnectRequest, ConnectResponse } from '../../shared/gen/fleetpass/v1/agent';
import { Action, Backend, OperationOutcome } from '../../shared/gen/fleetpass/v1/common';
import { createBenchMemoryBackend } from '../fleet/bench-memory-backend';

export interface MessageSizes {
  hello: number;
  welcome: number;
  operation: number;
  result: number;
}

/** Sizes of typical messages for node `bench-00001` and account ilmnuser. */
export async function messageSizes(): Promise<MessageSizes> {
  const nodeId = 'bench-00001';
  const backend = createBenchMemoryBackend({ accounts: ['ilmnuser'], locked: true });
  const change = await backend.unlock('ilmnuser');
  const hello = ConnectRequest.encode({
    message: {
      $case: 'hello',
      hello: {
        nodeId,
        hostname: nodeId,
        platform: 'bench-simulated',
        agentVersion: '0.1.0',
        labels: { bench: 'fleet' },
        backends: [Backend.BACKEND_LINUX],
        policy: [
          {
            backend: Backend.BACKEND_LINUX,
            account: 'ilmnuser',
            actions: [Action.ACTION_UNLOCK, Action.ACTION_RESET_PASSWORD],
          },
        ],
        busy: false,
      },
    },
  }).finish().length;
  const welcome = ConnectResponse.encode({
    message: { $case: 'welcome', welcome: { nodeId, heartbeatSeconds: 30, reportIntervalSeconds: 300 } },
  }).finish().length;
  const operation = ConnectResponse.encode({
    message: {
      $case: 'operation',
      operation: {
        id: randomUUID(),
        backend: Backend.BACKEND_LINUX,
        account: 'ilmnuser',
        action: Action.ACTION_UNLOCK,
        newSecret: '',
        expires: new Date(),
        requestedBy: 'bench-operator',
        approvedBy: '',
        reason: 'bench wave 1',
        created: new Date(),
        requireIdle: false,
        temporary: false,
      },
    },
  }).finish().length;
  const result = ConnectRequest.encode({
    message: {
      $case: 'result',
      result: {
        operationId: randomUUID(),
        outcome: OperationOutcome.OPERATION_OUTCOME_SUCCEEDED,
        errorCode: '',
        message: '',
        before: change.before,
        after: change.after,
        started: new Date(),
        finished: new Date(),
        replayed: false,
        failedStep: '',
        notes: [],
      },
    },
  }).finish().length;
  return { hello, welcome, operation, result };
}
