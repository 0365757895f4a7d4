// Creates a PGlite data directory (initdb) in a child process: PGlite's first start runs WASM on
// its thread for seconds, which would stall the engine's event loop (and every scoring) if done
// in process. Usage: node pglite-init.ts <dataDir>
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: pglite-init.ts <dataDir>\n');
  process.exit(2);
}
const db = await PGlite.create(dir);
await db.close();
