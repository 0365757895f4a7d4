import { describe, expect, it } from 'vitest';
import { EntityHasher, normaliseAddress, normaliseEmail, normaliseIp } from '../../services/core/entities.ts';

describe('entity normalisation', () => {
  it('collapses email variations that reach one mailbox', () => {
    expect(normaliseEmail(' J.Doe+shop@GMail.com ')).toBe('jdoe@gmail.com');
    expect(normaliseEmail('j.doe@googlemail.com')).toBe('jdoe@gmail.com');
    expect(normaliseEmail('j.doe+x@example.com')).toBe('j.doe@example.com');
  });

  it('keys an address on its delivery point, not the recipient', () => {
    const a = normaliseAddress({
      name: 'Alice',
      line1: '1-2-3 Shibuya,',
      postalCode: '150-0002',
      city: 'Tokyo',
      country: 'JP',
    });
    const b = normaliseAddress({
      name: 'Bob',
      line1: '1 2 3  SHIBUYA',
      postalCode: '150 0002',
      city: 'tokyo',
      country: 'JP',
    });
    expect(a).toBe(b);
    expect(normaliseAddress({ city: 'Tokyo' })).toBeNull();
  });

  it('normalises IPv4-mapped IPv6 addresses', () => {
    expect(normaliseIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(normaliseIp('2001:DB8::1')).toBe('2001:db8::1');
  });

  it('pseudonymises with a key, under both keys during rotation', () => {
    const one = new EntityHasher({ primary: { id: 'a', secret: Buffer.alloc(32, 1) } });
    const two = new EntityHasher({
      primary: { id: 'b', secret: Buffer.alloc(32, 2) },
      previous: { id: 'a', secret: Buffer.alloc(32, 1) },
    });
    const [mine] = one.identities('email', 'jdoe@gmail.com');
    expect(mine).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(two.identities('email', 'jdoe@gmail.com')).toEqual([expect.not.stringMatching(mine!), mine]);
    expect(one.identities('device', 'jdoe@gmail.com')[0]).not.toBe(mine);
  });
});
