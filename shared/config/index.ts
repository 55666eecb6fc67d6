/** Config helpers shared by the agent, the controller and the CLI. */
export { loadConfig, envNameToPath, type LoadConfigOptions, type LoadedConfig } from './load-config';
export { cronExpression } from './cron';
