/**
 * TEST ONLY: a real rsyslogd (Debian's rsyslog + rsyslog-openssl) on 127.0.0.1 receiving syslog over TLS
 * (imtcp with the ossl stream driver, octet-counted framing as RFC 5425 prescribes) and writing every
 * message it received, raw, one per line, to a file per run. Runs in the foreground (-n) as a child of
 * the test; stop() sends SIGTERM and waits for it to exit, start() again uses the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { TestCaFiles } from './test-ca';

export interface RsyslogServer {
  port: number;
  /** Starts rsyslogd (run number n writes received-<n>.log) and waits until it accepts connections. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The raw messages of every run so far, in the order received, per run. */
  runs(): string[][];
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export function createRsyslogServer(dir: string, port: number, tls: TestCaFiles): RsyslogServer {
  mkdirSync(join(dir, 'work'), { recursive: true });
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;
  let run = 0;
  let stderr = '';
  const file = (n: number) => join(dir, `received-${n}.log`);
  return {
    port,
    async start() {
      run++;
      const conf = join(dir, `rsyslog-${run}.conf`);
      writeFileSync(
        conf,
        `
global(workDirectory="${dir}/work" maxMessageSize="256k"
       defaultNetstreamDriver="ossl"
       defaultNetstreamDriverCAFile="${tls.caFile}"
       defaultNetstreamDriverCertFile="${tls.certFile}"
       defaultNetstreamDriverKeyFile="${tls.keyFile}")
module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="${port}")
template(name="raw" type="string" string="%rawmsg%\\n")
action(type="omfile" file="${file(run)}" template="raw" asyncWriting="off" flushOnTXEnd="on")
`,
      );
      stderr = '';
      child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(dir, `rsyslog-${run}.pid`)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const c = child;
      exited = new Promise((r) => c.once('exit', () => r()));
      const end = Date.now() + 20_000;
      while (!(await listening(port))) {
        if (c.exitCode !== null) throw new Error(`rsyslogd exited with ${c.exitCode}: ${stderr}`);
        if (Date.now() > end) throw new Error(`rsyslogd did not listen on ${port}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
      child = undefined;
    },
    runs() {
      const out: string[][] = [];
      for (let n = 1; n <= run; n++)
        out.push(existsSync(file(n)) ? readFileSync(file(n), 'utf8').split('\n').filter(Boolean) : []);
      return out;
    },
  };
}
