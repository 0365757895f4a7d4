import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook } from '../../services/adapters/webhooks/signing.ts';

describe('webhook signing', () => {
  it('produces headers that the standardwebhooks verifier accepts, and rejects a tampered body', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const request = signWebhook([secret], {
      id: 'msg_1',
      type: 'watchlist.hit',
      timestamp: new Date(),
      data: { last4: '4242' },
    });
    const verified = new Webhook(secret).verify(request.body, { ...request.headers });
    expect(verified).toMatchObject({ type: 'watchlist.hit', data: { last4: '4242' } });
    expect(() => new Webhook(secret).verify(request.body.replace('4242', '0000'), { ...request.headers })).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(request.body, { ...request.headers })).toThrow();
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('signs with the new and the previous secret during a rotation: either verifies, the new one first', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const timestamp = new Date();
    const request = signWebhook([current, previous], { id: 'msg_2', type: 'case.decided', timestamp, data: {} });
    const signatures = request.headers['webhook-signature']!.split(' ');
    expect(signatures).toHaveLength(2);
    // Each signature is the one that secret alone makes (the new one first), over the same id and timestamp.
    const alone = (secret: string) =>
      signWebhook([secret], { id: 'msg_2', type: 'case.decided', timestamp, data: {} }).headers['webhook-signature'];
    expect(signatures).toEqual([alone(current), alone(previous)]);
    for (const secret of [current, previous])
      expect(new Webhook(secret).verify(request.body, { ...request.headers })).toMatchObject({ type: 'case.decided' });
    expect(() => new Webhook(newWebhookSecret()).verify(request.body, { ...request.headers })).toThrow();
    expect(request.headers['webhook-id']).toBe('msg_2');
  });
});
