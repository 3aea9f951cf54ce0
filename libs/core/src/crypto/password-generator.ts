import { randomInt } from 'node:crypto';

/** No look-alikes: no 0/O/o, 1/l/I, 5/S, 2/Z. */
export const PASSWORD_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRTUVWXY346789';
export const PASSWORD_LENGTH = 24;

/** A cryptographically random password, safe to put in a URL without escaping. */
export function generatePassword(length = PASSWORD_LENGTH): string {
  let out = '';
  for (let i = 0; i < length; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
}
