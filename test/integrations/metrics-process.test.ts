/**
 * The built controller program (dist/fleetpass-controller.js) serves the monitoring listener: its banner
 * names it, FLEETPASS_METRICS_LISTEN moves it, /metrics passes promtool and /readyz is 200; SIGTERM stops
 * it with the rest.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeRoot, spawnControllerProcess } from '../helpers/controller-harness';
import { promtoolCheckMetrics } from './support/prometheus-text';

it('the controller program serves /metrics, /healthz and /readyz where FLEETPASS_METRICS_LISTEN says', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fp-metrics-process-'));
  const port = await freePort();
  const p = spawnControllerProcess(root, [], {
    FLEETPASS_AGENT_LISTEN: '127.0.0.1:0',
    FLEETPASS_METRICS_LISTEN: `127.0.0.1:${port}`,
  });
  try {
    await p.ready();
    expect(p.stdout()).toContain(`metrics:         http://127.0.0.1:${port}/metrics`);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
    expect(text).toMatch(/^fleetpass_audit_integrity 1$/m);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    p.kill('SIGTERM');
    expect(await p.exited()).toEqual({ code: 0, signal: null });
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  } finally {
    p.kill('SIGKILL');
    removeRoot(root);
  }
});
