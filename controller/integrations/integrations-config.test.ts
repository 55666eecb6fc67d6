import { loadControllerConfig } from '../config';

describe('metrics and audit.sinks config', () => {
  it('listens on loopback 9464 by default, with no sinks', () => {
    const { config, warnings } = loadControllerConfig({ env: {}, cwd: '/tmp' });
    expect(config.metricsListen).toBe('127.0.0.1:9464');
    expect(config.metrics).toEqual({ enabled: true, integrityCheckSeconds: 600 });
    expect(config.audit.sinks).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('takes FLEETPASS_METRICS_LISTEN and FLEETPASS_METRICS__ENABLED from the environment', () => {
    const { config } = loadControllerConfig({
      env: { FLEETPASS_METRICS_LISTEN: '127.0.0.1:19464', FLEETPASS_METRICS__ENABLED: 'false' },
      cwd: '/tmp',
    });
    expect(config.metricsListen).toBe('127.0.0.1:19464');
    expect(config.metrics.enabled).toBe(false);
  });

  it('warns when the listener leaves loopback without a token or client certificates', () => {
    const open = loadControllerConfig({ env: { FLEETPASS_METRICS_LISTEN: '0.0.0.0:9464' }, cwd: '/tmp' });
    expect(open.warnings).toEqual([expect.stringContaining('metricsListen (0.0.0.0:9464) is not loopback')]);
    const guarded = loadControllerConfig({
      env: { FLEETPASS_METRICS_LISTEN: '0.0.0.0:9464' },
      flags: { metrics: { bearerTokenFile: '/etc/fleetpass/metrics.token' } },
      cwd: '/tmp',
    });
    expect(guarded.warnings).toEqual([]);
  });

  it('fills each sink type with its defaults', () => {
    const { config } = loadControllerConfig({
      env: {},
      cwd: '/tmp',
      flags: {
        audit: {
          sinks: [
            { name: 'sys', type: 'syslog', address: 'siem.example.org:6514', caFile: '/ca.pem' },
            { name: 'hec', type: 'splunk-hec', url: 'https://splunk.example.org:8088', tokenFile: '/hec.token' },
          ],
        },
      },
    });
    expect(config.audit.sinks[0]).toMatchObject({
      facility: 'authpriv',
      enterpriseId: 32473,
      confirmAfterMs: 1000,
      required: false,
      batchSize: 500,
      startAt: 'beginning',
    });
    expect(config.audit.sinks[1]).toMatchObject({
      source: 'fleetpass',
      sourcetype: 'fleetpass:audit',
      ackPollSeconds: 2,
      ackTimeoutSeconds: 120,
      maxLagRecords: 1000,
      maxLagSeconds: 300,
    });
  });
});
