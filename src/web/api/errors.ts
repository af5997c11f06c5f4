/**
 * API errors as the UI shows them: the server's google.rpc.Status JSON
 * ({error: {code, message, status, details}}) with ErrorInfo's reason and
 * BadRequest's field violations, or a network failure.
 */

export interface FieldViolation {
  /** The request field, e.g. api_key.display_name or user.password. */
  readonly field: string;
  readonly description: string;
}

export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when the server could not be reached. */
    readonly httpStatus: number,
    /** google.rpc.Code name, e.g. INVALID_ARGUMENT, or UNAVAILABLE for a network failure. */
    readonly status: string,
    message: string,
    /** ErrorInfo.reason, e.g. BAD_CREDENTIALS, CSRF_TOKEN_INVALID. */
    readonly reason: string | undefined = undefined,
    readonly fieldViolations: readonly FieldViolation[] = [],
    readonly metadata: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The violation message for a field (exact, or the last path segment: `password` matches `user.password`). */
  fieldError(field: string): string | undefined {
    const hit = this.fieldViolations.find((v) => v.field === field || v.field.endsWith(`.${field}`));
    return hit?.description;
  }

  get unreachable(): boolean {
    return this.httpStatus === 0;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'The request was not valid.',
  401: 'Sign in to continue.',
  403: 'You are not allowed to do this.',
  404: 'Not found.',
  409: 'This conflicts with the current state.',
  429: 'Too many requests; wait a moment.',
  500: 'The server failed; see its log.',
  502: 'The server is not reachable (bad gateway).',
  503: 'The server is unavailable right now.',
};

interface StatusJson {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<{ '@type'?: string; reason?: string; metadata?: Record<string, string>; fieldViolations?: FieldViolation[] }>;
}

/** An ApiError from a non-2xx response and its body text (JSON or not). */
export function errorFromResponse(httpStatus: number, bodyText: string): ApiError {
  let status: StatusJson | undefined;
  try {
    status = (JSON.parse(bodyText) as { error?: StatusJson }).error;
  } catch {
    status = undefined;
  }
  if (!status || typeof status !== 'object') {
    return new ApiError(httpStatus, statusName(httpStatus), STATUS_TEXT[httpStatus] ?? `The server answered ${httpStatus}.`);
  }
  let reason: string | undefined;
  let metadata: Record<string, string> = {};
  const violations: FieldViolation[] = [];
  for (const d of status.details ?? []) {
    const type = d['@type'] ?? '';
    if (type.endsWith('google.rpc.ErrorInfo')) {
      reason = d.reason;
      metadata = d.metadata ?? {};
    } else if (type.endsWith('google.rpc.BadRequest')) {
      for (const v of d.fieldViolations ?? []) violations.push({ field: v.field, description: sentence(v.description ?? '') });
    }
  }
  const message = status.message?.trim() || STATUS_TEXT[httpStatus] || `The server answered ${httpStatus}.`;
  return new ApiError(httpStatus, status.status ?? statusName(httpStatus), sentence(message), reason, violations, metadata);
}

export function unreachableError(): ApiError {
  return new ApiError(0, 'UNAVAILABLE', 'The server is unreachable. Check your connection and that scrapydd is running, then try again.');
}

/** Any thrown value as a message fit for the page. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

function sentence(text: string): string {
  const first = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

function statusName(httpStatus: number): string {
  const names: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'ALREADY_EXISTS',
    429: 'RESOURCE_EXHAUSTED',
    501: 'UNIMPLEMENTED',
    503: 'UNAVAILABLE',
  };
  return names[httpStatus] ?? (httpStatus >= 500 ? 'INTERNAL' : 'UNKNOWN');
}
