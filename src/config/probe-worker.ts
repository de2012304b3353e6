// Worker thread entry: loads the probe files named in its first message and posts back plain data
// (the targets, and the issues with their positions); it may be started before that message is
// sent, and loads its modules meanwhile (./probe-worker-spawn.ts). See loadProbes in
// ./probe-files.ts. Targets and issues go in batches, each sent once the loading thread asks for
// it: 70,000 targets in one message (or in batches queued at once, which the receiver drains in
// one go) held its event loop for a second.
import { once } from 'node:events';
import { parentPort } from 'node:worker_threads';
import { loadProbeFilesHere, PROBE_WORKER_BATCH, type ProbeWorkerInput, type ProbeWorkerMessage } from './probe-files.js';

const port = parentPort!;
const [input] = (await once(port, 'message')) as [ProbeWorkerInput];
const result = await loadProbeFilesHere(input.probeFiles, input.env, input.maxFileBytes, input.tenants);
const send = async (message: ProbeWorkerMessage): Promise<void> => {
  port.postMessage(message);
  await once(port, 'message');
};
for (let i = 0; i < result.targets.length; i += PROBE_WORKER_BATCH) await send({ targets: result.targets.slice(i, i + PROBE_WORKER_BATCH) });
for (let i = 0; i < result.issues.length; i += PROBE_WORKER_BATCH) await send({ issues: result.issues.slice(i, i + PROBE_WORKER_BATCH) });
port.postMessage({ done: { files: result.files, touched: result.touched } } satisfies ProbeWorkerMessage);
