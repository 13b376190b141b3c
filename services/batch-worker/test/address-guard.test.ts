import { describe, expect, it } from 'vitest';
import { isPrivateAddress, resolveTarget, signature, WebhookRefused } from '../src/webhook.js';

describe('webhook address guard', () => {
  it.each([
    '10.1.2.3',
    '192.168.1.1',
    '172.16.0.1',
    '172.31.255.255',
    '127.0.0.1',
    '127.9.9.9',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '224.0.0.1',
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34'])(
    'allows %s',
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );

  it('checks IP literals in URLs without DNS, in every spelling the URL parser accepts', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/h',
      'http://0x7f.1/h',
      'http://2130706433/h',
    ])
      await expect(resolveTarget(url, false), url).rejects.toBeInstanceOf(WebhookRefused);
    await expect(resolveTarget('https://93.184.216.34/hook', false)).resolves.toMatchObject({ address: '93.184.216.34', family: 4 });
    await expect(resolveTarget('http://127.0.0.1:8080/hook', true)).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(resolveTarget('ftp://93.184.216.34/x', false)).rejects.toBeInstanceOf(WebhookRefused);
  });

  it('refuses host names that resolve to loopback', async () => {
    await expect(resolveTarget('http://localhost:1/hook', false)).rejects.toThrow(/private address/);
  });

  it('signs the raw body with HMAC-SHA256', () => {
    // RFC 4231 test case 2.
    expect(signature('what do ya want for nothing?', 'Jefe')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});
