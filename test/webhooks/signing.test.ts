import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook } from '../../services/adapters/webhooks/signing.ts';

describe('webhook signing', () => {
  it('produces headers that the standardwebhooks verifier accepts, and rejects a tampered body', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const request = signWebhook(secret, {
      id: 'msg_1',
      type: 'watchlist.hit',
      timestamp: new Date(),
      data: { last4: '4242' },
    });
    const verified = new Webhook(secret).verify(request.body, { ...request.headers });
    expect(verified).toMatchObject({ type: 'watchlist.hit', data: { last4: '4242' } });
    expect(() => new Webhook(secret).verify(request.body.replace('4242', '0000'), { ...request.headers })).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(request.body, { ...request.headers })).toThrow();
  });
});
