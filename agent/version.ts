/** The agent's version, taken from package.json when the bundle is built (esbuild inlines the JSON). */
import { version } from '../package.json';

export const AGENT_VERSION: string = version;
