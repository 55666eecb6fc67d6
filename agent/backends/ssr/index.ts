/** The Juniper SSR (128T) backend: factory, config, the password policy the controller's generator follows. */
export { createSsrBackend, type SsrBackend, type SsrBackendDeps } from './ssr-backend';
export {
  ssrBackendConfigSchema,
  parseSsrBackendConfig,
  ssrConfigWarnings,
  type SsrBackendConfig,
  type SsrBackendConfigInput,
} from './config';
export {
  checkSsrPasswordPolicy,
  assertSsrPasswordPolicy,
  generateSsrPassword,
  SSR_PASSWORD_POLICY,
} from '../../../shared/ssr-password-policy';
export { LINUX_ONLY_NOTE, STORED_NOTE, HA_NOTE, type SsrResetStep } from './reset-password';
