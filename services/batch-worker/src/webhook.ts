/**
 * Webhook delivery: a signed JSON POST to the job's callback URL, refused when the
 * URL leads into a private network (SSRF). The host name is resolved once, every
 * address it resolves to is checked, and the connection goes to the checked
 * address (the socket's `lookup` returns it), so DNS rebinding between the check
 * and the connection cannot redirect the request.
 */
import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** The target may never be delivered to (a private address, a bad URL): not worth retrying. */
export class WebhookRefused extends Error {
  override name = 'WebhookRefused';
}

/** Loopback, private, link-local, CGNAT, unique-local, unspecified, multicast and reserved ranges. */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", includes the unspecified 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata endpoints
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3], // multicast, reserved, broadcast
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64 could reach any IPv4 address, private ones included
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/** True for addresses a webhook must not reach. IPv4-mapped IPv6 (::ffff:a.b.c.d) is checked as IPv4. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) throw new WebhookRefused(`${address} is not an IP address`);
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface ResolvedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** Checks the URL and resolves its host to an address that may be reached; throws WebhookRefused otherwise. */
export async function resolveTarget(rawUrl: string, allowPrivate: boolean): Promise<ResolvedTarget> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new WebhookRefused('callback URL is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookRefused(`callback URL scheme ${url.protocol} is not http(s)`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host);
  const addresses = literal
    ? [{ address: host, family: literal }]
    : await lookup(host, { all: true, verbatim: true }).catch((err: Error) => {
        throw new Error(`cannot resolve ${host}: ${err.message}`); // DNS may recover: retried
      });
  if (addresses.length === 0) throw new Error(`cannot resolve ${host}: no addresses`);
  if (!allowPrivate) {
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) throw new WebhookRefused(`callback host ${host} resolves to a private address (${blocked.address})`);
  }
  return { url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}

export interface Delivery {
  body: string;
  secret?: string;
  timeoutMs: number;
  allowPrivate: boolean;
  correlationId?: string;
}

/** `sha256=<hex>`: HMAC-SHA256 of the raw body, as receivers recompute it. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs the body; resolves with the status on 2xx, rejects otherwise (WebhookRefused when it must not be sent). */
export async function deliverWebhook(rawUrl: string, delivery: Delivery): Promise<number> {
  const { url, address, family } = await resolveTarget(rawUrl, delivery.allowPrivate);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(delivery.body)),
    'user-agent': 'ser-batch-worker',
    'x-ser-timestamp': String(Math.floor(Date.now() / 1000)),
  };
  if (delivery.secret) headers['x-ser-signature'] = signature(delivery.body, delivery.secret);
  if (delivery.correlationId) headers['x-correlation-id'] = delivery.correlationId;
  // Node asks with {all: true} when it tries several families (autoSelectFamily); answer either way.
  const pinned = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
  const options: RequestOptions = { method: 'POST', headers, lookup: pinned, signal: AbortSignal.timeout(delivery.timeoutMs) };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = request(url, options, (res) => {
      const status = res.statusCode ?? 0;
      res.resume(); // the body is not needed; draining it frees the socket
      res.on('error', reject);
      res.on('end', () => (status >= 200 && status < 300 ? resolve(status) : reject(new Error(`callback answered HTTP ${status}`))));
    });
    req.on('error', (err) => reject(err.name === 'AbortError' ? new Error(`callback timed out after ${delivery.timeoutMs} ms`) : err));
    req.end(delivery.body);
  });
}
