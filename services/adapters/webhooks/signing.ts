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

/** The body and headers of one delivery attempt, signed with the subscription's secret. */
export const signWebhook = (secret: string, message: WebhookMessage): SignedRequest => {
  const body = JSON.stringify({
    type: message.type,
    timestamp: message.timestamp.toISOString(),
    data: message.data,
  });
  const signature = new Webhook(secret).sign(message.id, message.timestamp, body);
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
