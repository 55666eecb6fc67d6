/**
 * Guessing enrollment tokens over the wire: Enroll over TLS without a client certificate (as a new node
 * would), a new connection for every guess. After the limit the address is refused without checking,
 * the audit log holds one record per checked guess plus one for the limit (not one per attempt), and
 * no guessed secret appears in a log line or an audit record. A real token is not spent by any of it.
 * (test/enroll/tokens.test.ts checks the limit's window and reset in process.)
 */
import { randomBytes } from 'node:crypto';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { AgentServiceClient } from '../../shared/gen/fleetpass/v1/agent';
import { createKeyAndCsr } from '../../shared/pki';
import { createEnrollmentToken } from '../../controller/enroll';
import { captureLogs, removeRoot, startTestController } from '../helpers/controller-harness';
import { listNodeViews } from '../../controller/store';

describe('enrollment token guessing', () => {
  it('is refused past the limit, audited in bounded records, and never records a guessed secret', async () => {
    const logs = captureLogs('debug');
    const tc = await startTestController({ log: logs.logger });
    try {
      const real = createEnrollmentToken(tc.ctx.enrollment.deps, { createdBy: 'admin' });
      const { csrPem } = await createKeyAndCsr({ commonName: 'guesser' });
      const max = tc.ctx.enrollment.deps.settings.maxTokenFailures;
      const guesses = Array.from(
        { length: max + 5 },
        () => `fpe_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`,
      );
      const codes: string[] = [];
      for (const token of guesses) {
        const client = new AgentServiceClient(tc.address, credentials.createSsl(Buffer.from(tc.ctx.pki.ca.certPem)), {
          'grpc.ssl_target_name_override': 'localhost',
        });
        codes.push(
          await new Promise<string>((res) =>
            client.enroll({ token, csrPem, hostname: 'guesser' }, (e: ServiceError | null) => {
              client.close();
              res(e ? String(e.metadata.get('fp-error-code')[0]) : 'enrolled');
            }),
          ),
        );
      }
      expect(codes).toEqual([...Array(max).fill('FP_TOKEN_INVALID'), ...Array(5).fill('FP_RATE_LIMITED')]);
      const records = tc.ctx.audit.query({ filter: { action: 'enrollment.*' }, limit: 1000 }).records;
      expect(records.filter((r) => r.action === 'enrollment.refused')).toHaveLength(max);
      expect(records.filter((r) => r.action === 'enrollment.rate_limited')).toHaveLength(1);
      const everything = logs.text() + JSON.stringify(tc.ctx.audit.query({ limit: 1000 }).records);
      for (const g of guesses) expect(everything).not.toContain(g.slice(-43));
      expect(everything).not.toContain(real.secret.slice(-43));
      expect(tc.ctx.enrollment.deps.repo.getToken(real.token.id)?.used).toBeNull();
      expect(listNodeViews(tc.ctx.store)).toEqual([]);
    } finally {
      await tc.stop();
      removeRoot(tc.root);
    }
  });
});
