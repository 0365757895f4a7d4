// Names Leakguard shows everywhere (answers, logs, metrics labels, records): what they may hold.
import { z } from 'zod';
import { containsCardNumber } from './scrub.ts';

/** A merchant's or an issuer's id: as API keys, stream messages and ruleset overrides name them. */
export const tenantIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, . _ -')
  // Merchant and issuer ids are stored and shown everywhere: one that is a card number would be masked, and lost.
  .refine((v) => !containsCardNumber(v), 'must not contain a card number');
