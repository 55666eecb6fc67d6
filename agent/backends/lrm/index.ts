/** Illumina Local Run Manager v4 backend: what the agent daemon and `fleetpass-agent lrm probe` use. */
export {
  createLrmBackend,
  lrmClientFor,
  NOTE_NEW_PASSWORD_AT_LOGIN,
  type LrmBackend,
  type LrmBackendDeps,
} from './lrm-backend';
export {
  lrmBackendConfigSchema,
  lrmConfigWarnings,
  parseLrmBackendConfig,
  readServicePassword,
  type LrmBackendConfig,
  type LrmBackendConfigInput,
} from './config';
export {
  createLrmClient,
  DEFAULT_LRM_ENDPOINTS,
  LRM_ENDPOINT_NAMES,
  LRM_ENDPOINT_KIND,
  resolveEndpoints,
  type LrmClient,
  type LrmEndpoint,
  type LrmEndpointName,
  type LrmEndpoints,
  type LrmUser,
  type LrmSession,
} from './client';
export { parseLrmVersion, versionSupport, SUPPORT_GUIDANCE, type LrmVersion, type VersionSupport } from './version';
