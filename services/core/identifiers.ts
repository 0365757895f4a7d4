// Names Leakguard shows everywhere (answers, logs, metrics labels, records): what they may hold.
import { z } from 'zod';
import { containsCardNumber } from './scrub.ts';

/** A merchant's or an issuer's id: as API keys, stream messages and ruleset overrides name them. */
export const tenantIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, . _ -')
  // Merchant and issuer ids are stored and shown everywhere: one that is a card number would be masked, and lost.
  .refine((v) => !containsCardNumber(v), 'must not contain a card number');

/**
 * A version (a model's, a ruleset's): it is echoed in every scoring (versions.model,
 * versions.ruleset), the logs, the metrics' labels and the admin routes, so it is short, plain and
 * never a card number.
 */
export const VERSION_NAME_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Why `version` cannot name a `what` (model, ruleset), in words that never repeat it (it may hold
 * anything); undefined when it can.
 */
export function versionNameProblem(version: string, what: string): string | undefined {
  if (!VERSION_NAME_PATTERN.test(version)) {
    const other = [...version].findIndex((c) => !/[A-Za-z0-9._:-]/.test(c));
    return (
      `must be 1 to 64 characters among A-Z a-z 0-9 . _ : - (this one has ${[...version].length} characters` +
      `${other >= 0 ? `, the first other one at position ${other + 1}` : ''})`
    );
  }
  if (containsCardNumber(version)) return `looks like it holds a card number: name the ${what} otherwise`;
  return undefined;
}
