/**
 * The Prometheus files IT copies (deploy/prometheus/) are valid for Debian's promtool: the alert rules
 * (`promtool check rules`), the scrape config (`promtool check config`), and the alerts fire on the
 * series that mean trouble and stay quiet otherwise (`promtool test rules`, fleetpass-alerts.test.yml).
 * The README shows the rules file as it is.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');
const DIR = join(REPO, 'deploy/prometheus');

function promtool(args: string[], cwd = REPO): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('deploy/prometheus', () => {
  it('alert rules pass promtool check rules', () => {
    const r = promtool(['check', 'rules', join(DIR, 'fleetpass-alerts.yml')]);
    expect(r).toEqual({ status: 0, output: expect.stringContaining('SUCCESS: 2 rules found') });
  });

  it('the scrape config passes promtool check config', () => {
    const r = promtool(['check', 'config', 'prometheus.example.yml'], DIR);
    expect(r).toEqual({ status: 0, output: expect.stringContaining('is valid prometheus config file syntax') });
  });

  it('the alerts fire on append failures and lost integrity, and only then', () => {
    const r = promtool(['test', 'rules', join(__dirname, 'prometheus/fleetpass-alerts.test.yml')]);
    expect(r).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('the README shows the rules file as it is', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme).toContain(readFileSync(join(DIR, 'fleetpass-alerts.yml'), 'utf8'));
  });
});
