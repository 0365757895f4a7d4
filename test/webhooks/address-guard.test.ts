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
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('accepts %s', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('checks every resolved address, IPv4 and IPv6', async () => {
    const resolve = () => Promise.resolve(['93.184.216.34', 'fe80::1']);
    const refused = await checkDestination('https://receiver.example/hook', { allowPrivate: false, resolve });
    expect(refused).toEqual({ ok: false, reason: expect.stringContaining('fe80::1') as unknown });
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
