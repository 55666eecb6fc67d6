import { Writable } from 'node:stream';
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
    logger.info({ password: secret, op: { newSecret: secret, nested: { new_password: secret, list: [{ token: secret }] } } }, 'reset applied');
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
