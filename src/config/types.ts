// The whole daemon configuration after loading and validation: the parsed output of the daemon
// file's schema (src/config/schemas.ts, assembled from the schemas each stage owns), with the API
// tokens always filled (the default comes from the environment) and channel files made absolute.
import type { ApiToken } from '../config-core/types.js';
import type { DaemonFile } from './schemas.js';

export type DaemonConfig = Omit<DaemonFile, 'api'> & { api: { tokens: ApiToken[] } };
