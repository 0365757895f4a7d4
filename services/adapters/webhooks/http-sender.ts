// Sends one signed webhook request. Before each request the receiver's host is resolved and every
// address checked (address-guard.ts); the connection then goes to the checked addresses only (the
// lookup is pinned), so a name that changes what it resolves to between check and connect cannot
// reach a private address. Redirects are not followed (a 3xx is a failed attempt). The whole
// attempt, the name's resolution and the connection included, is bounded by the timeout. The
// answer is its status line: once that has come, the body is read up to 64 KiB for at most a
// second more and dropped, and whatever the body does (too long, never ending, cut off), a 2xx
// stays a delivery.
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { checkDestination, type Resolver } from './address-guard.ts';
import type { SendResult, WebhookSender } from '../../webhooks/model.ts';

export interface HttpSenderOptions {
  allowPrivate: boolean;
  /** Plain http:// receivers refused (production, unless LEAKGUARD_WEBHOOK_ALLOW_HTTP). */
  requireHttps?: boolean;
  timeoutMs: number;
  resolve?: Resolver;
  userAgent?: string;
  /** A receiver's name resolved to a non-public address (which the delivery log does not show). */
  onRefused?: (url: string, address: string) => void;
}

const MAX_ANSWER_BYTES = 64 * 1024;
/** How long an answer's body is read once its status has come (within the attempt's timeout). */
const BODY_GRACE_MS = 1_000;

export class HttpWebhookSender implements WebhookSender {
  private readonly o: HttpSenderOptions;

  constructor(options: HttpSenderOptions) {
    this.o = options;
  }

  async send(url: string, body: string, headers: Readonly<Record<string, string>>): Promise<SendResult> {
    const started = performance.now();
    const timedOut: SendResult = { statusCode: null, error: `timed out after ${this.o.timeoutMs} ms` };
    // The name's resolution is part of the attempt's time: a slow resolver must not outlast the
    // subscription's lease (twice the timeout), or another engine would send the same delivery.
    let expire: NodeJS.Timeout | undefined;
    const check = await Promise.race([
      checkDestination(url, {
        allowPrivate: this.o.allowPrivate,
        requireHttps: this.o.requireHttps ?? false,
        ...(this.o.resolve ? { resolve: this.o.resolve } : {}),
      }),
      new Promise<undefined>((resolve) => (expire = setTimeout(() => resolve(undefined), this.o.timeoutMs))),
    ]).finally(() => clearTimeout(expire));
    if (check === undefined) return timedOut;
    if (!check.ok) {
      if (check.address !== undefined) this.o.onRefused?.(url, check.address);
      return { statusCode: null, error: `refused: ${check.reason}` };
    }
    const target = new URL(url);
    const checked = check.addresses.map((address) => ({ address, family: isIP(address) }));
    // Every lookup the socket makes answers the addresses that were checked, all of them when asked
    // for all (Node tries each in turn, IPv6 and IPv4), else the first.
    const lookup: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as (e: null, a: unknown[]) => void)(null, checked);
      else callback(null, checked[0]!.address, checked[0]!.family);
    };
    const remainingMs = Math.max(1, this.o.timeoutMs - (performance.now() - started));
    const options: RequestOptions = {
      method: 'POST',
      hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: target.port || (target.protocol === 'https:' ? 443 : 80),
      path: `${target.pathname}${target.search}`,
      headers: {
        ...headers,
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': this.o.userAgent ?? 'Leakguard-Webhooks/1',
      },
      lookup,
      agent: false,
    };
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      // The receiver's answer, once its status line and headers have come.
      let answered: SendResult | undefined;
      let timer: NodeJS.Timeout | undefined;
      const done = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res) => {
        const status = res.statusCode ?? 0;
        const answer: SendResult = {
          statusCode: status,
          error: status >= 200 && status < 300 ? null : `receiver answered ${status}`,
        };
        answered = answer;
        const finish = () => done(answer);
        // The body is not the answer: read for a moment, then dropped with the connection.
        clearTimeout(timer);
        timer = setTimeout(
          () => {
            req.destroy();
            finish();
          },
          Math.max(1, Math.min(BODY_GRACE_MS, this.o.timeoutMs - (performance.now() - started))),
        );
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_ANSWER_BYTES) res.destroy();
        });
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      });
      timer = setTimeout(() => {
        req.destroy();
        done(answered ?? timedOut);
      }, remainingMs);
      // A connection that fails once the answer has come fails its body only.
      req.on('error', (error: NodeJS.ErrnoException) =>
        done(answered ?? { statusCode: null, error: error.code ? `${error.code}: ${error.message}` : error.message }),
      );
      req.end(body);
    });
  }
}
