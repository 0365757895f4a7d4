// The headers every answer under /console carries: the console's own plugin sets them on its
// answers, and the router's refusals (a malformed or over-long path, answered before any route)
// set them for a /console path too (http/errors.ts frameworkError).

// No script at all: the console serves none (one stylesheet, server-rendered SVG), so none may run.
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'cache-control': 'no-store',
};

/** Whether a request's URL is the console's (its path, whatever the query). */
export const isConsolePath = (url: string) =>
  url === '/console' || url.startsWith('/console/') || url.startsWith('/console?');
