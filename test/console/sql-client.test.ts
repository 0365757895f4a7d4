// Which failures of PostgreSQL are waited out (the engine's case database, a processor's archive
// check: untilReachable) and which are the caller's to report.
import { expect, it } from 'vitest';
import { isConnectionError } from '../../services/adapters/postgres/sql-client.ts';

it('waits out a server not reachable, restarting, out of connections or timing out; not a refusal', () => {
  for (const code of ['ECONNREFUSED', 'ETIMEDOUT', '57P01', '57P03', '08006', '53300', '53400', '57014'])
    expect(isConnectionError({ code }), code).toBe(true);
  // Too many connections in a rolling deploy of many processors: waited out, not taken for a
  // schema checked (found by a review).
  expect(isConnectionError({ code: '53300', message: 'sorry, too many clients already' })).toBe(true);
  for (const code of ['42501', '42P01', '28P01', '3D000', '23505'])
    expect(isConnectionError({ code }), code).toBe(false);
  expect(isConnectionError(undefined)).toBe(false);
});
