// Standard Webhooks signing (issue #15 §2): a `whsec_` secret per subscription, and the
// webhook-id, webhook-timestamp and webhook-signature headers over the exact body sent.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A new subscription secret, `whsec_` and 32 random bytes in base64 (returned once at creation). */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export interface WebhookMessage {
  /** Stable per event: a re-send or a retry keeps it, so receivers can drop duplicates. */
  readonly id: string;
  readonly type: string;
  readonly timestamp: Date;
  /** Already scrubbed: never a card number (masked card or last 4 only). */
  readonly data: unknown;
}

export interface SignedRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The body and headers of one delivery attempt, signed with each of the subscription's secrets:
 * its current one, then, during a rotation's grace period, its previous one. The signatures are
 * space-separated in one webhook-signature header (Standard Webhooks): a receiver accepts the
 * message when one of them verifies with its secret, whichever of the two it holds.
 */
export const signWebhook = (secrets: readonly string[], message: WebhookMessage): SignedRequest => {
  if (secrets.length === 0) throw new Error('no signing secret');
  const body = JSON.stringify({
    type: message.type,
    timestamp: message.timestamp.toISOString(),
    data: message.data,
  });
  const signature = secrets.map((secret) => new Webhook(secret).sign(message.id, message.timestamp, body)).join(' ');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(message.timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
};
