// The baseline for `npm run bench:api`: a minimal Fastify 5 app with one POST route that
// returns a small JSON document. It is started the way the engine is (same Node binary, same
// flags, NODE_ENV=production, no request logging), so the difference between the two is the
// engine's own work: auth, validation, card fingerprinting, the Redis round trip, rules.
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 8081);
const host = process.env.HOST ?? '127.0.0.1';

const app = Fastify({ logger: false });
app.post('/hello', async () => ({ hello: 'world' }));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

const address = await app.listen({ host, port });
process.stdout.write(`hello-world baseline listening on ${address}\n`);
