import type { ZodError } from 'zod';

/** An error with an HTTP status and a stable machine code; rendered as `{error:{code,message,details}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** extra top-level fields of the error object (e.g. `alternative` of NO_OFFER) */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.extra ?? {}), ...(this.details !== undefined ? { details: this.details } : {}) } };
  }
}

export function validationError(err: ZodError, where: string): ApiError {
  const details = err.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message, code: i.code }));
  const first = details[0];
  return new ApiError(400, 'VALIDATION', `invalid ${where}: ${first ? `${first.path}: ${first.message}` : 'malformed'}`, details);
}

export const notFound = (what: string) => new ApiError(404, 'NOT_FOUND', `${what} not found`);
export const forbidden = (why = 'not allowed for your role') => new ApiError(403, 'FORBIDDEN', why);
export const unauthorized = (why = 'missing or invalid token') => new ApiError(401, 'UNAUTHORIZED', why);
