/** Node selection flags shared by unlock, reset and the read commands: --node, --label, --all, --locked. */
import type { Command } from 'commander';
import type { NodeSelector } from '../../shared/gen/fleetpass/v1/admin';
import { parseLabels, UsageError } from './output';

export interface SelectionOptions {
  node?: string[];
  label?: string[];
  all?: boolean;
  locked?: boolean;
}

/** Adds the selection flags to a command. */
export function selectionOptions(cmd: Command): Command {
  return cmd
    .option('--node <id...>', 'these nodes (repeat or list)')
    .option('--label <key=value...>', 'every node with all these labels')
    .option('--all', 'every enrolled node')
    .option('--locked', 'only nodes where the account is locked now');
}

/** The selector for a change: some nodes must be chosen explicitly (never "everything" by accident). */
export function changeSelector(o: SelectionOptions): NodeSelector {
  const labels = parseLabels(o.label);
  const hasIds = (o.node?.length ?? 0) > 0;
  const hasLabels = Object.keys(labels).length > 0;
  if (!hasIds && !hasLabels && !o.all) throw new UsageError('choose the nodes with --node, --label or --all');
  if (o.all && (hasIds || hasLabels)) throw new UsageError('--all cannot be combined with --node or --label');
  return { nodeIds: o.node ?? [], labels, all: Boolean(o.all), lockedOnly: Boolean(o.locked) };
}
