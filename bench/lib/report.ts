/**
 * BENCHMARK ONLY: the shape of benchmark results, the machine they ran on, and the markdown table
 * bench/results/latest.md (copied into the top README).
 */
import { cpus, loadavg, totalmem } from 'node:os';

/** One measured figure, with the baseline measured in the same run and the goal. */
export interface Figure {
  metric: string;
  value: number;
  unit: string;
  baseline?: { label: string; value: number };
  /** value / baseline (or the figure the goal is about). */
  ratio?: number;
  goal?: string;
  met?: boolean;
  note?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  /** What size produced these figures, e.g. "1,000 nodes, 4 worker processes". */
  size: string;
  figures: Figure[];
  /** Correctness checked along the way (each op applied once, chain verifies, ...). */
  checks: Record<string, unknown>;
  seconds: number;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverage: number;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: Math.round(loadavg()[0] * 100) / 100,
  };
}

function num(v: number, unit: string): string {
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  // Small values keep three significant digits, so 0.0999 % is not shown as 0.1 % next to a "< 0.1 %" goal.
  const text =
    Math.abs(v) > 0 && Math.abs(v) < 1
      ? String(Number(v.toPrecision(3)))
      : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return `${text} ${unit}`.trim();
}

/** The markdown table of a run. */
export function markdown(results: readonly BenchResult[], machine: MachineInfo, when: Date): string {
  const lines = [
    `Measured ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node} (${machine.platform}); load average ${machine.loadAverage} at the start.`,
    '',
    '| Benchmark | Size | Figure | Baseline (same run) | Ratio | Goal | Met |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    r.figures.forEach((f, i) => {
      const baseline = f.baseline ? `${f.baseline.label}: ${num(f.baseline.value, f.unit)}` : '';
      const ratio = f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}x`;
      const met = f.met === undefined ? '' : f.met ? 'yes' : '**no**';
      const [title, size] = i === 0 ? [r.title, r.size] : ['', ''];
      lines.push(
        `| ${title} | ${size} | ${f.metric}: ${num(f.value, f.unit)}${f.note ? ` (${f.note})` : ''} | ${baseline} | ${ratio} | ${f.goal ?? ''} | ${met} |`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}
