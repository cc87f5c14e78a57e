import type { Request } from 'express';
import { badRequest, notFound } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A route's id parameter; anything that is not a uuid cannot exist, so it is a 404 like an unknown one. */
export function idParam(req: Request, name: string, what: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || !UUID.test(value)) throw notFound(`no such ${what}`);
  return value;
}

/** A required, trimmed string field of a JSON body, at most `max` characters. */
export function textField(body: unknown, field: string, max: number): string {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  if (typeof value !== 'string' || value.trim() === '')
    throw badRequest('VALIDATION_FAILED', `"${field}" is required (a non-empty string)`);
  if (value.trim().length > max)
    throw badRequest('VALIDATION_FAILED', `"${field}" is longer than ${max} characters`);
  return value.trim();
}

export function optionalTextField(body: unknown, field: string, max: number): string | null {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  if (value === undefined || value === null || value === '') return null;
  return textField(body, field, max);
}
