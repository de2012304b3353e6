// Worker thread entry: loads the probe files named in workerData and posts back plain data (the
// targets, and the issues with their positions). See loadProbes in ./load.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { loadProbeFilesHere } from './load.js';

const input = workerData as { probeFiles: string[]; env: NodeJS.ProcessEnv; maxFileBytes: number };
parentPort?.postMessage(await loadProbeFilesHere(input.probeFiles, input.env, input.maxFileBytes));
