/**
 * Parses an HTTP Basic `Authorization` header. Never throws: any header that
 * is not clean Basic credentials yields null, and the caller answers 401.
 */

// Far above any real token pair; stops huge headers before decoding them.
const MAX_HEADER_LENGTH = 8 * 1024;
const HEADER_RE = /^basic ([A-Za-z0-9+/]+={0,2})$/i;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeBase64(text: string): Uint8Array | null {
  // Without padding, a length of 1 mod 4 cannot come from whole bytes; with padding the length must be whole groups.
  if (text.includes('=') ? text.length % 4 !== 0 : text.length % 4 === 1) return null;
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

export function parseBasicAuthorization(header: string | undefined): { user: string; password: string } | null {
  if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) return null;
  const m = HEADER_RE.exec(header);
  if (!m?.[1]) return null;
  const bytes = decodeBase64(m[1]);
  if (!bytes) return null;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return null;
  }
  if (CONTROL_RE.test(text)) return null;
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
