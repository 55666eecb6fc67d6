import { Backend } from '../../shared/gen/fleetpass/v1/common';
import { classify, defaultEscrowConfig, escrowSchema } from './escrow-config';

describe('escrow config', () => {
  it('puts root, ilmnadmin and the SSR admin in the privileged class by default, everything else in standard', () => {
    const c = defaultEscrowConfig();
    const node = { labels: {} };
    expect(classify(c, node, Backend.BACKEND_LINUX, 'ilmnadmin')).toMatchObject({
      name: 'privileged',
      schedule: '0 2 1 * *',
      revealNeedsApproval: true,
      graceSeconds: 3600,
    });
    expect(classify(c, node, Backend.BACKEND_SSR, 'admin').name).toBe('privileged');
    expect(classify(c, node, Backend.BACKEND_SSR, 'ilmnadmin')).toMatchObject({
      name: 'standard',
      schedule: undefined,
      revealNeedsApproval: false,
      rotateAfterReveal: true,
    });
  });

  it('takes the first class whose accounts and node labels match; an unmatched account gets the unclassed defaults', () => {
    const c = escrowSchema.parse({
      postUseGraceSeconds: 120,
      classes: [
        {
          name: 'secure-site',
          accounts: [{ account: 'ilmnuser' }],
          labels: { site: 'bldg4' },
          revealNeedsApproval: true,
          graceSeconds: 30,
        },
        {
          name: 'users',
          accounts: [{ backend: 'linux', account: 'ilmnuser' }],
          schedule: '0 3 * * 0',
          revealRoles: ['approver'],
        },
      ],
    });
    expect(classify(c, { labels: { site: 'bldg4' } }, Backend.BACKEND_LINUX, 'ilmnuser')).toMatchObject({
      name: 'secure-site',
      graceSeconds: 30,
      revealNeedsApproval: true,
    });
    expect(classify(c, { labels: { site: 'bldg7' } }, Backend.BACKEND_LINUX, 'ilmnuser')).toMatchObject({
      name: 'users',
      revealRoles: ['approver'],
      graceSeconds: 120,
    });
    expect(classify(c, { labels: {} }, Backend.BACKEND_LRM, 'ilmnuser').name).toBe('');
    const unclassed = classify(c, { labels: {} }, Backend.BACKEND_LINUX, 'root');
    expect(unclassed).toMatchObject({
      name: '',
      revealNeedsApproval: false,
      rotateAfterReveal: true,
      graceSeconds: 120,
    });
    expect(unclassed.schedule).toBeUndefined();
  });

  it('refuses schedules it cannot compute and duplicate class names', () => {
    const bad = escrowSchema.safeParse({
      classes: [
        { name: 'a', accounts: [{ account: '*' }], schedule: '0 0 L * *' },
        { name: 'a', accounts: [{ account: 'x' }] },
      ],
    });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^classes\.0\.schedule: rotation windows need/),
        'classes.1.name: the class name "a" is used twice',
      ]),
    );
  });
});
