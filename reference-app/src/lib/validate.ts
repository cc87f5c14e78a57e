import type { z } from 'zod';
import { AppError, type ErrorDetail } from './errors';

/** Parses input with a zod schema or throws 400 VALIDATION_FAILED with one detail per bad field. */
export function validate<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationFailed(
    result.error.issues.map((issue) => ({
      field: issue.path.join('.') || 'body',
      message: issue.message,
    })),
  );
}

export function validationFailed(details: ErrorDetail[]): AppError {
  const firstPerField = new Map<string, ErrorDetail>();
  for (const detail of details)
    if (!firstPerField.has(detail.field)) firstPerField.set(detail.field, detail);
  return new AppError(400, 'VALIDATION_FAILED', 'The request is not valid', [
    ...firstPerField.values(),
  ]);
}
