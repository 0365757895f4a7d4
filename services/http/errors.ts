// One error shape for every refusal: {error, details?: [{path, message}]}. Messages are ours,
// never the parser's: a JSON syntax error message quotes the body, and the body may hold a PAN.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { scrubCardNumbers } from '../core/scrub.ts';

export interface ErrorBody {
  error: string;
  details?: { path: string; message: string }[];
}

const BY_CODE: Record<string, [number, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported content type: send application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'request body too large'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'request body is empty'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid content length'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'request body is not valid JSON'],
};

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext === 'body' || !error.validationContext ? '' : `${error.validationContext}.`;
      // Messages are our schemas' and paths our field names; scrubbed all the same, as the last
      // line before the wire (a path can name a key the client sent).
      const details = error.validation.map((v) => ({
        path: scrubCardNumbers(`${where}${v.instancePath.replace(/^\//, '').replaceAll('/', '.')}` || '(root)'),
        message: scrubCardNumbers(v.message ?? 'is invalid'),
      }));
      return reply.code(400).send({ error: 'invalid request', details } satisfies ErrorBody);
    }
    const known = error.code ? BY_CODE[error.code] : undefined;
    if (known) return reply.code(known[0]).send({ error: known[1] } satisfies ErrorBody);
    if (error.statusCode === 429)
      return reply.code(429).send({ error: 'rate limit exceeded: slow down and retry later' } satisfies ErrorBody);
    if (error.statusCode === 400 && error instanceof SyntaxError)
      return reply.code(400).send({ error: 'request body is not valid JSON' } satisfies ErrorBody);
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: 'bad request' } satisfies ErrorBody);
    }
    request.log.error(
      { err: { type: error.name, code: error.code, message: error.message, stack: error.stack } },
      'unhandled error',
    );
    return reply.code(500).send({ error: 'internal error' } satisfies ErrorBody);
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'no such route' } satisfies ErrorBody));
}

/** The router's refusals (a malformed or over-long path): in our shape, never quoting the path. */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(414).send({ error: 'a path parameter is too long' } satisfies ErrorBody);
  } else if (error.code === 'FST_ERR_BAD_URL') {
    void reply
      .code(400)
      .send({ error: 'malformed URL: a path segment is not valid percent-encoding' } satisfies ErrorBody);
  } else {
    request.log.error({ err: { type: error.name, code: error.code } }, 'router error');
    void reply.code(500).send({ error: 'internal error' } satisfies ErrorBody);
  }
}
