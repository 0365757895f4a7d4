// A body's charset and content coding, checked before it is read: Leakguard reads UTF-8 and no
// compression. A gzip body parsed as text was answered "not valid JSON", a UTF-16 one read as UTF-8.
import type { IncomingHttpHeaders } from 'node:http';

/** Why the body's declared charset or encoding is refused, or undefined when it is UTF-8 and not compressed. */
export function bodyEncodingRefusal(headers: IncomingHttpHeaders): 'charset' | 'encoding' | undefined {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headers['content-type'] ?? '')?.[1];
  // UTF-8 or its ASCII subset only.
  if (charset !== undefined && !/^(utf-?8|us-ascii)$/i.test(charset)) return 'charset';
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return 'encoding';
  return undefined;
}
