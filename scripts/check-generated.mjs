// Fails when shared/gen is stale: regenerates from proto/ into a temporary folder and compares.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'fleetpass-gen-'));
const template = readFileSync(join(root, 'buf.gen.yaml'), 'utf8').replace('out: shared/gen', `out: ${out}`);
const templateFile = join(out, 'buf.gen.check.yaml');
writeFileSync(templateFile, template);

function list(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? list(p) : [p];
  });
}

try {
  execFileSync(join(root, 'node_modules/.bin/buf'), ['generate', '--template', templateFile], {
    cwd: root,
    stdio: 'inherit',
  });
  const fresh = list(out)
    .filter((p) => p.endsWith('.ts'))
    .map((p) => relative(out, p))
    .sort();
  const committed = list(join(root, 'shared/gen'))
    .map((p) => relative(join(root, 'shared/gen'), p))
    .sort();
  const problems = [];
  for (const f of new Set([...fresh, ...committed])) {
    if (!fresh.includes(f)) problems.push(`${f}: committed but no longer generated`);
    else if (!committed.includes(f)) problems.push(`${f}: generated but not committed`);
    else if (readFileSync(join(out, f), 'utf8') !== readFileSync(join(root, 'shared/gen', f), 'utf8'))
      problems.push(`${f}: differs from proto/`);
  }
  if (problems.length) {
    console.error('shared/gen is stale; run `npm run gen` and commit:\n  ' + problems.join('\n  '));
    process.exit(1);
  }
  console.log(`shared/gen is current (${fresh.length} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
