import { Writable } from 'node:stream';
import { FleetpassError } from './errors';
import { createLogger, isSecretKey, REDACTED } from './logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination: stream }) };
}

describe('logger redaction', () => {
  const secret = 'Hunter2-very-secret!';

  it('never writes a password field, at any depth, in any spelling', async () => {
    const { lines, logger } = capture();
    logger.info(
      { password: secret, op: { newSecret: secret, nested: { new_password: secret, list: [{ token: secret }] } } },
      'reset applied',
    );
    logger.child({ authorization: `Bearer ${secret}` }).warn({ 'api-token': secret }, 'call');
    logger.flush();
    await new Promise((r) => setImmediate(r));
    const text = lines.join('\n');
    expect(lines.length).toBe(2);
    expect(text).not.toContain(secret);
    const first = JSON.parse(lines[0]);
    expect(first.password).toBe(REDACTED);
    expect(first.op.newSecret).toBe(REDACTED);
    expect(first.op.nested.new_password).toBe(REDACTED);
    expect(first.op.nested.list[0].token).toBe(REDACTED);
    expect(first.msg).toBe('reset applied');
  });

  it('redacts the details and cause chain of a logged error, keeping its code and message', async () => {
    const { lines, logger } = capture();
    const inner = new FleetpassError('FP_COMMAND_FAILED', 'chpasswd failed', {
      details: { command: 'chpasswd', newPassword: secret },
    });
    const err = new FleetpassError('FP_INTERNAL', 'reset failed', {
      cause: inner,
      details: { password: secret, account: 'ilmnuser' },
    });
    logger.error({ err }, 'operation failed');
    logger.error(err);
    logger.warn({ result: { error: err } }, 'nested');
    logger.child({ err }).info('bound');
    logger.flush();
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(4);
    expect(lines.join('\n')).not.toContain(secret);
    const [first, second, third, fourth] = lines.map((l) => JSON.parse(l));
    for (const logged of [first.err, second.err, third.result.error, fourth.err]) {
      expect(logged).toMatchObject({
        type: 'FleetpassError',
        code: 'FP_INTERNAL',
        message: expect.stringContaining('reset failed'),
        details: { password: REDACTED, account: 'ilmnuser' },
        cause: {
          code: 'FP_COMMAND_FAILED',
          message: 'chpasswd failed',
          details: { command: 'chpasswd', newPassword: REDACTED },
        },
      });
      expect(logged.stack).toContain('caused by');
    }
    expect(second.msg).toBe('reset failed');
  });

  it('keeps ordinary fields', async () => {
    const { lines, logger } = capture();
    logger.info({ account: 'ilmnuser', node: 'ns-01' }, 'unlock');
    logger.flush();
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(lines[0])).toMatchObject({ account: 'ilmnuser', node: 'ns-01', level: 'info' });
  });

  it('classifies secret field names', () => {
    expect(isSecretKey('new_secret')).toBe(true);
    expect(isSecretKey('PASSWORD')).toBe(true);
    expect(isSecretKey('account')).toBe(false);
  });
});
