import { randomInt } from 'node:crypto';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * `length` characters drawn at random from `alphabet` (ASCII letters and digits by default):
 * test data of an exact length that no app can recognise from one run to the next.
 */
export function randomText(length: number, alphabet: string = LETTERS): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[randomInt(alphabet.length)];
  return out;
}
