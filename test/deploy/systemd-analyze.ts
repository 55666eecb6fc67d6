/**
 * TEST ONLY: runs `systemd-analyze verify` and `systemd-analyze security --offline` against a throwaway root
 * that holds the host's stock units (for sysinit.target and friends), the units under test, and a stub for
 * every ExecStart binary, so the result does not depend on where this machine keeps node.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface AnalyzeResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const STOCK_UNITS = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(d))!;

/** Prepares `root` for systemd-analyze: stock units, and a stub for each absolute ExecStart binary. */
export function prepareAnalyzeRoot(root: string, options: { stubBinaries: boolean }): void {
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  if (!existsSync(join(root, 'usr/lib/systemd/system')))
    cpSync(STOCK_UNITS, join(root, 'usr/lib/systemd/system'), { recursive: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  if (!options.stubBinaries) return;
  for (const bin of ['/usr/bin/node']) {
    mkdirSync(join(root, dirname(bin)), { recursive: true });
    writeFileSync(join(root, bin), '#!/bin/sh\n');
    chmodSync(join(root, bin), 0o755);
  }
}

/** A fresh root holding `units` (path under /etc/systemd/system, drop-ins included → content). */
export function analyzeRootWith(units: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'fp-analyze-'));
  prepareAnalyzeRoot(root, { stubBinaries: true });
  for (const [name, content] of Object.entries(units)) {
    mkdirSync(dirname(join(root, 'etc/systemd/system', name)), { recursive: true });
    writeFileSync(join(root, 'etc/systemd/system', name), content);
  }
  return root;
}

function analyze(args: string[]): AnalyzeResult {
  const r = spawnSync('systemd-analyze', args, {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_COLORS: '0' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `systemd-analyze verify --root=<root> <units>`. */
export function verifyUnits(root: string, units: string[]): AnalyzeResult {
  return analyze(['verify', `--root=${root}`, ...units]);
}

/** The overall exposure score from `systemd-analyze security --offline=yes`, and the threshold check's status. */
export function securityScore(
  root: string,
  unit: string,
  threshold: number,
): { score: number; thresholdStatus: number | null; report: string } {
  const r = analyze([
    'security',
    '--offline=yes',
    `--root=${root}`,
    `--threshold=${Math.round(threshold * 10)}`,
    '--no-pager',
    unit,
  ]);
  const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no exposure score in systemd-analyze output: ${r.stdout}${r.stderr}`);
  return { score: Number(m[1]), thresholdStatus: r.status, report: r.stdout };
}
