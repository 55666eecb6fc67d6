/**
 * Keeps the node certificate fresh without a token: when less than a third of its lifetime is left, the
 * agent makes a new key and CSR, calls Renew over mutual TLS with its current certificate, checks the
 * answer and swaps the files atomically (credential-files.ts). The stream keeps running on the old
 * connection; the next reconnect reads the new files. A failed attempt is logged and retried later;
 * a certificate that expires first means enrolling again. Lifecycle: start() / stop().
 */
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../../shared/clock';
import { FleetpassError, asFleetpassError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { createKeyAndCsr } from '../../shared/pki';
import { formatFingerprint } from '../../shared/pki/fingerprint';
import { commonName } from '../../shared/pki/subject';
import type { AgentConfig } from '../config';
import { readTlsMaterial } from '../tls-material';
import { callRenew } from './agent-calls';
import { keyMatchesCertificate, writeCredentials } from './credential-files';

const MAX_TIMER_MS = 3_600_000;
const MIN_RETRY_MS = 5_000;
const MAX_RETRY_MS = 300_000;

export interface Renewal {
  start(): void;
  /** Stops the timer and waits for a renewal in progress (it finishes its file swap). */
  stop(): Promise<void>;
  /** Renews now if due; resolves true when a new certificate was stored. */
  checkNow(): Promise<boolean>;
}

interface Validity {
  notBefore: number;
  notAfter: number;
}

/** When a certificate valid from notBefore to notAfter should be renewed: a third of its lifetime before the end. */
export function renewalDue(v: Validity): number {
  return v.notAfter - (v.notAfter - v.notBefore) / 3;
}

function validity(certPem: Buffer | string): Validity & { fingerprint: string } {
  const c = new X509Certificate(certPem);
  return {
    notBefore: new Date(c.validFrom).getTime(),
    notAfter: new Date(c.validTo).getTime(),
    fingerprint: formatFingerprint(c.fingerprint256),
  };
}

export function createRenewal(o: { config: AgentConfig; log: Logger; clock: Clock }): Renewal {
  const c = o.config.controller;
  const log = o.log.child({ component: 'renewal' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  let stopped = true;

  function schedule(ms: number): void {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void tick(), Math.max(0, Math.min(ms, MAX_TIMER_MS)));
    timer.unref();
  }

  async function renewOnce(): Promise<boolean> {
    const tls = readTlsMaterial(c);
    const current = validity(tls.cert);
    const now = o.clock.now().getTime();
    if (now < renewalDue(current)) return false;
    if (now >= current.notAfter) {
      throw new FleetpassError(
        'FP_TLS_MATERIAL',
        `the node certificate expired on ${new Date(current.notAfter).toISOString()} and cannot renew itself; enroll the node again with a new token`,
      );
    }
    log.info({ notAfter: new Date(current.notAfter).toISOString() }, 'renewing the node certificate');
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: tls.nodeId });
    const res = await callRenew({ address: c.address, serverName: c.serverName }, tls, csrPem);
    const cert = new X509Certificate(res.certificatePem);
    const ca = new X509Certificate(tls.ca);
    // Trust nothing in the answer beyond what the CA we already hold vouches for.
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !keyMatchesCertificate(keyPem, res.certificatePem)) {
      throw new FleetpassError(
        'FP_TLS_MATERIAL',
        'the renewed certificate is not for the new key or not signed by the CA this node trusts; kept the current one',
      );
    }
    const cn = commonName(cert);
    if (cn !== tls.nodeId)
      throw new FleetpassError(
        'FP_TLS_MATERIAL',
        `the renewed certificate names ${cn ?? 'nothing'}, not this node (${tls.nodeId}); kept the current one`,
      );
    writeCredentials(c, { keyPem, certPem: res.certificatePem });
    const next = validity(res.certificatePem);
    log.info(
      {
        nodeId: tls.nodeId,
        fingerprint: next.fingerprint,
        previous: current.fingerprint,
        notAfter: new Date(next.notAfter).toISOString(),
      },
      'node certificate renewed',
    );
    return true;
  }

  /** The next check: at the due time of the certificate on disk, or a retry after a failure. */
  function nextDelay(failed: boolean): number {
    try {
      const v = validity(readTlsMaterial(c).cert);
      const now = o.clock.now().getTime();
      if (failed) return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, (v.notAfter - v.notBefore) / 20));
      return Math.max(0, renewalDue(v) - now);
    } catch {
      return MAX_RETRY_MS;
    }
  }

  async function tick(): Promise<void> {
    timer = undefined;
    const ok = await checkNow().then(
      () => true,
      () => false,
    );
    schedule(nextDelay(!ok));
  }

  function checkNow(): Promise<boolean> {
    running ??= renewOnce()
      .catch((e) => {
        const err = asFleetpassError(e);
        log.warn({ err, code: err.code }, 'certificate renewal failed; will retry');
        throw err;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
    checkNow,
  };
}
