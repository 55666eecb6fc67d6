/** Builds the sink a config entry names (one file per transport). */
import type { SinkConfig } from '../integrations-config';
import { createHttpsJsonSink } from './https-json-sink';
import type { AuditSink } from './sink';
import { createSplunkHecSink } from './splunk-hec-sink';
import { createSyslogTlsSink } from './syslog-tls-sink';

export function createSink(c: SinkConfig): AuditSink {
  switch (c.type) {
    case 'syslog':
      return createSyslogTlsSink(c);
    case 'https-json':
      return createHttpsJsonSink(c);
    case 'splunk-hec':
      return createSplunkHecSink(c);
  }
}
