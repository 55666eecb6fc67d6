/**
 * The shipped units load cleanly (`systemd-analyze verify`, no warning at all, so a misspelt hardening
 * directive cannot slip through as "ignored") and keep the exposure scores recorded in deploy/README.md.
 */
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { analyzeRootWith, securityScore, verifyUnits } from './systemd-analyze';

const UNIT_DIR = resolve(__dirname, '../../deploy/systemd');
const README = readFileSync(resolve(__dirname, '../../deploy/README.md'), 'utf8');
const units = {
  'fleetpass-agent.service': readFileSync(resolve(UNIT_DIR, 'fleetpass-agent.service'), 'utf8'),
  'fleetpass-controller.service': readFileSync(resolve(UNIT_DIR, 'fleetpass-controller.service'), 'utf8'),
};

/** Ceilings set from what the units achieve (agent 2.4, controller 1.1 with systemd 252): any loosening fails. */
const THRESHOLDS = { 'fleetpass-agent.service': 2.4, 'fleetpass-controller.service': 1.1 } as const;

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
function root(u: Record<string, string>): string {
  const r = analyzeRootWith(u);
  roots.push(r);
  return r;
}

describe('systemd units', () => {
  it('pass systemd-analyze verify with no warning', () => {
    const r = verifyUnits(root(units), Object.keys(units));
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('a misspelt directive is caught (the check above is not vacuous)', () => {
    const broken = units['fleetpass-agent.service'].replace('ProtectClock=yes', 'ProtectClok=yes');
    const r = verifyUnits(root({ 'fleetpass-agent.service': broken }), ['fleetpass-agent.service']);
    expect(r.stderr).toMatch(/Unknown key 'ProtectClok'/);
  });

  it('a missing ExecStart binary is caught', () => {
    const moved = units['fleetpass-controller.service'].replace(
      'ExecStart=/usr/bin/node',
      'ExecStart=/usr/bin/node-missing',
    );
    const r = verifyUnits(root({ 'fleetpass-controller.service': moved }), ['fleetpass-controller.service']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/node-missing is not executable/);
  });

  it.each(Object.entries(THRESHOLDS))('%s keeps its exposure score at or under %s', (unit, ceiling) => {
    const { score, thresholdStatus } = securityScore(root(units), unit, ceiling);
    expect(score).toBeLessThanOrEqual(ceiling);
    expect(thresholdStatus).toBe(0);
    // deploy/README.md states the score; keep it honest.
    expect(README).toContain(`\`${unit}\` | ${score.toFixed(1)}`);
  });

  it('the agent with the SSR drop-in verifies cleanly and keeps its score', () => {
    const dropIn = readFileSync(resolve(UNIT_DIR, 'fleetpass-agent-ssr.conf'), 'utf8');
    const r = root({
      'fleetpass-agent.service': units['fleetpass-agent.service'],
      'fleetpass-agent.service.d/ssr.conf': dropIn,
    });
    const v = verifyUnits(r, ['fleetpass-agent.service']);
    expect(v.stderr + v.stdout).toBe('');
    const { score } = securityScore(r, 'fleetpass-agent.service', THRESHOLDS['fleetpass-agent.service']);
    expect(score).toBeLessThanOrEqual(THRESHOLDS['fleetpass-agent.service']);
    expect(README).toContain(`\`fleetpass-agent.service\` + \`fleetpass-agent-ssr.conf\` | ${score.toFixed(1)}`);
  });

  it('the score check fails when hardening is removed', () => {
    const weak = units['fleetpass-controller.service'].replace(
      /^(CapabilityBoundingSet|SystemCallFilter|PrivateUsers)=.*$/gm,
      '',
    );
    const { score, thresholdStatus } = securityScore(
      root({ 'fleetpass-controller.service': weak }),
      'fleetpass-controller.service',
      THRESHOLDS['fleetpass-controller.service'],
    );
    expect(score).toBeGreaterThan(THRESHOLDS['fleetpass-controller.service']);
    expect(thresholdStatus).not.toBe(0);
  });

  it('neither unit sets MemoryDenyWriteExecute (Node JIT; see units-under-systemd.test.ts)', () => {
    for (const text of Object.values(units)) expect(text).not.toMatch(/^MemoryDenyWriteExecute=/m);
  });
});
