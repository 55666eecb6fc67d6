/** The controller's local commands (on the controller host, against its files; never over the network). */
import type { Command } from 'commander';
import { registerBootstrapAdmin } from './bootstrap-admin';
import { registerEscrowRotateMasterKey } from './escrow-rotate-master-key';
import type { SetResult } from './local-command';
import { registerOperatorCert } from './operator-cert';
import { registerVerifyAudit } from './verify-audit';

export function registerLocalCommands(program: Command, setResult: SetResult): void {
  registerVerifyAudit(program, setResult);
  registerBootstrapAdmin(program, setResult);
  registerOperatorCert(program, setResult);
  registerEscrowRotateMasterKey(program, setResult);
}
