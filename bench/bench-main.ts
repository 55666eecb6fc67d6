/**
 * BENCHMARK ONLY: runs the selected benchmarks one after another, prints each figure with its baseline
 * and ratio, and writes bench/results/latest.json and latest.md. Started by bench/run.mjs (which
 * bundles this and the benchmark processes first); see bench/README.md for the options.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentAtRestBenchmark } from './benchmarks/agent-at-rest';
import { auditBenchmark } from './benchmarks/audit';
import { idleFleetBenchmark } from './benchmarks/idle-fleet';
import { waveBenchmark } from './benchmarks/wave';
import { REPO_ROOT, shmScratch } from './lib/paths';
import { machineInfo, markdown, type BenchResult } from './lib/report';

export interface BenchOptions {
  only: string[];
  full: boolean;
  workers: number;
  waveNodes: number;
  waves: number;
  idleNodes: number;
  auditSingle: number;
  auditBatched: number;
  auditBatchSize: number;
  verifyRecords: number;
  agentWindowSeconds: number;
  /** "disk" (the figure) or "tmpfs" (diagnostic: no fsync cost). */
  waveData: string;
  outDir: string;
}

const ALL = ['audit', 'agent', 'wave', 'idle'];

function parse(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}; see bench/README.md`);
    flags.set(m[1], m[2] ?? 'true');
  }
  const full = flags.get('full') === 'true' || process.env.FLEETPASS_BENCH_FULL === '1';
  const n = (name: string, def: number) => {
    const v = flags.get(name) ?? process.env[`FLEETPASS_BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
    if (v === undefined) return def;
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} must be a positive number`);
    return x;
  };
  const only = (flags.get('only') ?? ALL.join(',')).split(',').filter(Boolean);
  for (const b of only) if (!ALL.includes(b)) throw new Error(`unknown benchmark ${b}; choose from ${ALL.join(', ')}`);
  if (!['disk', 'tmpfs'].includes(flags.get('wave-data') ?? 'disk'))
    throw new Error('--wave-data must be disk or tmpfs');
  return {
    only,
    full,
    workers: n('workers', 4),
    waveNodes: n('wave-nodes', 1000),
    waves: n('waves', 3),
    idleNodes: n('idle-nodes', full ? 10_000 : 2000),
    auditSingle: n('audit-single', 2000),
    auditBatched: n('audit-batched', 100_000),
    auditBatchSize: n('audit-batch-size', 100),
    verifyRecords: n('verify-records', 1_000_000),
    agentWindowSeconds: n('agent-window', full ? 600 : 60),
    waveData: flags.get('wave-data') ?? 'disk',
    outDir: flags.get('out') ?? join(REPO_ROOT, 'bench', 'results'),
  };
}

function print(r: BenchResult): void {
  console.log(`\n== ${r.title} (${r.size}; ${r.seconds.toFixed(0)} s)`);
  for (const f of r.figures) {
    const base = f.baseline ? `  baseline ${f.baseline.label}: ${f.baseline.value.toFixed(3)} ${f.unit}` : '';
    const ratio = f.ratio === undefined ? '' : `  ratio ${f.ratio.toFixed(2)}x`;
    const goal = f.goal ? `  goal ${f.goal}: ${f.met ? 'met' : 'NOT MET'}` : '';
    console.log(`  ${f.metric}: ${f.value.toFixed(3)} ${f.unit}${base}${ratio}${goal}${f.note ? `  (${f.note})` : ''}`);
  }
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const machine = machineInfo();
  const when = new Date();
  // Process logs (the controller logs at info, as it does by default) go to tmpfs: on the controller's disk
  // the benchmark's own log file would add its writes to every fsync of the data file (ext4 commits
  // them together), a cost of this test setup rather than of fleetpass. Their folder is printed.
  const logDir = shmScratch('logs');
  mkdirSync(o.outDir, { recursive: true });
  console.log(
    `fleetpass benchmarks: ${o.only.join(', ')}${o.full ? ' (full size)' : ''} on ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`,
  );
  console.log(`process logs: ${logDir}`);
  const results: BenchResult[] = [];
  for (const name of o.only) {
    let r: BenchResult;
    if (name === 'wave')
      r = await waveBenchmark({
        nodes: o.waveNodes,
        workers: o.workers,
        waves: o.waves,
        logDir,
        dataOnTmpfs: o.waveData === 'tmpfs',
      });
    else if (name === 'audit')
      r = await auditBenchmark({
        single: o.auditSingle,
        batched: o.auditBatched,
        batchSize: o.auditBatchSize,
        verifyRecords: o.verifyRecords,
      });
    else if (name === 'idle')
      r = await idleFleetBenchmark({ nodes: o.idleNodes, workers: o.workers, full: o.full, logDir });
    else r = await agentAtRestBenchmark({ windowSeconds: o.agentWindowSeconds, full: o.full, logDir });
    print(r);
    results.push(r);
  }
  const doc = { machine, started: when.toISOString(), finished: new Date().toISOString(), options: o, results };
  writeFileSync(join(o.outDir, 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(join(o.outDir, 'latest.md'), markdown(results, machine, when));
  console.log(`\nwrote ${join(o.outDir, 'latest.json')} and latest.md`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`benchmark failed: ${(e as Error)?.stack ?? e}`);
    process.exit(1);
  },
);
