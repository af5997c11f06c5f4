/** A webhook's payload_url as accepted when it is set: http(s), no credentials, no literal non-public address. */
import { isIP } from 'node:net';
import { InvalidArgument } from '../../errors/domain-error.js';
import { nonPublicCategory } from './address-guard.js';

export const MAX_PAYLOAD_URL_LENGTH = 2048;

/** The normalised URL, or INVALID_ARGUMENT naming `field`. */
export function checkPayloadUrl(raw: string, allowPrivate: boolean, field = 'payload_url'): string {
  const bad = (why: string): never => {
    throw new InvalidArgument(`payload_url ${why}`, { field, reason: 'INVALID_PAYLOAD_URL' });
  };
  const text = raw.trim();
  if (text === '') bad('is required, e.g. payload_url=https://example.com/hook');
  if (text.length > MAX_PAYLOAD_URL_LENGTH) bad(`is longer than ${MAX_PAYLOAD_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad(`'${text}' is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(`must be an http or https URL, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username !== '' || url.password !== '') bad('must not contain credentials (user:password@)');
  if (url.hostname === '') bad('has no host');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowPrivate && isIP(host) !== 0) {
    const category = nonPublicCategory(host);
    if (category) bad(`points to a ${category} address (${host}), which webhooks may not reach (webhook_allow_private)`);
  }
  url.hash = '';
  return url.toString();
}
