import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountState, Backend } from '../../shared/gen/fleetpass/v1/common';
import { createStore, openDatabase } from '.';

const state = (locked: boolean, observed: string, failureCount = locked ? 3 : 0) =>
  AccountState.fromPartial({
    backend: Backend.BACKEND_LINUX,
    account: 'ilmnuser',
    exists: true,
    locked,
    failureCount,
    observed: new Date(observed),
    details: { 'linux.uid': '1001' },
  });

describe('account state', () => {
  it('keeps the latest observation and adds history only when something besides the time changed', () => {
    const store = createStore(openDatabase(join(mkdtempSync(join(tmpdir(), 'fp-acct-')), 'a.db')));
    store.nodes.ensure('n1', new Date());
    const t = (s: string) => new Date(`2026-05-01T10:00:${s}Z`);
    expect(store.accounts.apply('n1', [state(false, '2026-05-01T10:00:00Z')], 'report', t('00'))).toHaveLength(1);
    expect(store.accounts.apply('n1', [state(false, '2026-05-01T10:00:10Z')], 'report', t('10'))).toEqual([]);
    const locked = store.accounts.apply('n1', [state(true, '2026-05-01T10:00:20Z')], 'report', t('20'));
    expect(locked).toHaveLength(1);
    expect(locked[0].previous?.locked).toBe(false);
    expect(store.accounts.apply('n1', [state(true, '2026-05-01T10:00:30Z', 4)], 'operation', t('30'))).toHaveLength(1);
    const latest = store.accounts.get('n1', Backend.BACKEND_LINUX, 'ilmnuser')!;
    expect(latest).toMatchObject({ observed: '2026-05-01T10:00:30.000Z', changed: '2026-05-01T10:00:30.000Z' });
    expect(latest.state.details).toEqual({ 'linux.uid': '1001' });
    expect(
      store.accounts
        .history('n1', Backend.BACKEND_LINUX, 'ilmnuser')
        .map((h) => [h.state.locked, h.state.failureCount, h.source]),
    ).toEqual([
      [true, 4, 'operation'],
      [true, 3, 'report'],
      [false, 0, 'report'],
    ]);
    store.db.close();
  });
});
