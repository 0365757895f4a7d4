// `npm run replay -- FILE.ndjson`: a merchant's own history of /v1/score requests through the
// engine (models/cli/backtest.ts has both commands).
import { REPLAY_USAGE, replayCommand, runCli } from './backtest.ts';

void runCli(replayCommand, REPLAY_USAGE);
