/**
 * Follows a change request through the WatchChangeRequest server stream (no polling): a snapshot of all
 * operations once, then every update as it happens, with a progress bar on stderr when it is a terminal.
 * Stops when every operation is final, or (unless `waitForOffline`) when all that is left waits for
 * nodes that are not connected.
 */
import { SingleBar } from 'cli-progress';
import type { ChangeRequest, OperationSummary } from '../../shared/gen/fleetpass/v1/admin';
import type { AdminApi } from './admin-client';
import { isFinalOperation, isWaitingOffline } from './operation-view';

export interface FollowResult {
  request: ChangeRequest;
  operations: OperationSummary[];
  /** False when it stopped with operations still waiting for offline nodes. */
  complete: boolean;
}

export interface FollowOptions {
  waitForOffline?: boolean;
  /** Show a progress bar (the caller decides: stderr is a TTY and output is not --json). */
  progress?: boolean;
  stream?: NodeJS.WriteStream;
}

/** Watches request `id` until it is done (or only offline nodes remain). */
export async function followRequest(api: AdminApi, id: string, options: FollowOptions = {}): Promise<FollowResult> {
  const ops = new Map<string, OperationSummary>();
  let request: ChangeRequest | undefined;
  let bar: SingleBar | undefined;
  const merge = (o: OperationSummary) => {
    const had = ops.get(o.id);
    // A final state never goes back, whatever order the snapshot and the stream arrive in.
    if (!had || !isFinalOperation(had)) ops.set(o.id, o);
  };
  const finished = () => [...ops.values()].filter(isFinalOperation).length;
  const settled = () =>
    ops.size > 0 &&
    [...ops.values()].every((o) => isFinalOperation(o) || (!options.waitForOffline && isWaitingOffline(o)));
  const stream = api.stream(api.client.watchChangeRequest, { id });
  try {
    let first = true;
    for await (const msg of stream) {
      request = msg.request ?? request;
      if (msg.operation) merge(msg.operation);
      if (first) {
        first = false;
        // The first message carries counts only; the full list comes once, and the stream keeps it current.
        const snapshot = await api.call(api.client.getChangeRequest, { id });
        for (const o of snapshot.operations) merge(o);
        request = snapshot.request ?? request;
        if (options.progress) {
          bar = new SingleBar({
            stream: options.stream ?? process.stderr,
            format: ' {bar} {value}/{total} nodes done | {eta_formatted} left',
            hideCursor: true,
            clearOnComplete: false,
          });
          bar.start(ops.size, finished());
        }
      }
      bar?.update(finished());
      if (msg.done || settled()) break;
    }
  } finally {
    bar?.stop();
  }
  const operations = [...ops.values()];
  return { request: request!, operations, complete: operations.every(isFinalOperation) };
}
