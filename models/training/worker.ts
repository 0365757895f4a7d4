// Worker thread: trains trees for train.ts. workerData: { codes, labels, cols, params }.
import { parentPort, workerData } from 'node:worker_threads';
import { trainTree, type TreeJob, type TreeParams } from './tree.ts';

const { codes, labels, cols, params } = workerData as {
  codes: Uint8Array;
  labels: Uint8Array;
  cols: number;
  params: TreeParams;
};
parentPort!.on('message', (job: TreeJob) => {
  try {
    parentPort!.postMessage({ tree: job.tree, result: trainTree(codes, labels, cols, job, params) });
  } catch (error) {
    parentPort!.postMessage({ tree: job.tree, error: String((error as Error).stack ?? error) });
  }
});
