// Worker thread: one configuration's replay for backtest.ts. workerData: { traffic, configuration,
// window } (the traffic's lines in shared memory); posts { progress } now and then, then { run }
// (the decisions' and scores' buffers transferred) or { error }.
import { parentPort, workerData } from 'node:worker_threads';
import { replayConfiguration, type Configuration, type ReplayTraffic, type ReplayWindow } from './replay.ts';

const { traffic, configuration, window } = workerData as {
  traffic: ReplayTraffic;
  configuration: Configuration;
  window: ReplayWindow;
};

replayConfiguration(traffic, configuration, window, (done) => parentPort!.postMessage({ progress: done })).then(
  (run) => parentPort!.postMessage({ run }, [run.decisions.buffer as ArrayBuffer, run.scores.buffer as ArrayBuffer]),
  (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) }),
);
