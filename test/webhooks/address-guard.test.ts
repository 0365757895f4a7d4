import { describe, expect, it } from 'vitest';
import { checkDestination, isPrivateAddress } from '../../services/adapters/webhooks/address-guard.ts';

describe('webhook address guard', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not-an-ip',
    // Documentation and other special-purpose IPv4 ranges.
    '192.0.2.10',
    '198.51.100.7',
    '203.0.113.9',
    '192.88.99.1',
    '255.255.255.255',
    // IPv6 forms a translator or tunnel turns into a private IPv4 address (NAT64, SIIT, 6to4),
    // the deprecated IPv4-compatible form, and special-purpose IPv6 ranges.
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::7f00:1',
    '64:ff9b:1::a00:1',
    '::ffff:0:7f00:1',
    '2002:7f00:1::',
    '2002:a00:1::1',
    '::7f00:1',
    '2001::1',
    '2001:db8::1',
    '100::1',
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    // A public IPv4 address behind NAT64 (what DNS64 answers on an IPv6-only host) or 6to4.
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('accepts %s', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('checks every resolved address, IPv4 and IPv6', async () => {
    const resolve = () => Promise.resolve(['93.184.216.34', 'fe80::1']);
    const refused = await checkDestination('https://receiver.example/hook', { allowPrivate: false, resolve });
    expect(refused).toEqual({
      ok: false,
      reason: 'host receiver.example resolves to an address that is not public',
      address: 'fe80::1',
    });
    const allowed = await checkDestination('https://receiver.example/hook', { allowPrivate: true, resolve });
    expect(allowed.ok).toBe(true);
  });

  it('refuses loopback literals and localhost unless private addresses are allowed', async () => {
    expect((await checkDestination('http://127.0.0.1:8080/x', { allowPrivate: false })).ok).toBe(false);
    expect((await checkDestination('http://[::1]:8080/x', { allowPrivate: false })).ok).toBe(false);
    expect((await checkDestination('http://localhost:8080/x', { allowPrivate: false })).ok).toBe(false);
    expect((await checkDestination('http://127.0.0.1:8080/x', { allowPrivate: true })).ok).toBe(true);
  });

  it('refuses other schemes, credentials and unresolvable hosts', async () => {
    expect((await checkDestination('ftp://8.8.8.8/x', { allowPrivate: true })).ok).toBe(false);
    expect((await checkDestination('https://u:p@8.8.8.8/x', { allowPrivate: true })).ok).toBe(false);
    const resolve = () => Promise.reject(new Error('ENOTFOUND'));
    expect((await checkDestination('https://nowhere.invalid/x', { allowPrivate: true, resolve })).ok).toBe(false);
  });
});
