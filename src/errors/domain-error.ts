/**
 * Domain errors: the small set of failures a caller can act on. The domain
 * throws these; the service boundary maps them once to gRPC status codes,
 * REST error bodies and scrapyd's {"status":"error"} answers.
 */

/** gRPC status codes (google.rpc.Code) used by the domain. */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

export interface ErrorOptions {
  /** UPPER_SNAKE_CASE reason for google.rpc.ErrorInfo. */
  reason?: string;
  /** Extra ErrorInfo metadata (never secrets). */
  metadata?: Record<string, string>;
  /** Field violations for INVALID_ARGUMENT (google.rpc.BadRequest). */
  field?: string;
  cause?: unknown;
}

/** Base class: a message safe to show to a client plus a gRPC code. */
export class DomainError extends Error {
  readonly code: Code;
  readonly reason: string;
  readonly metadata: Record<string, string>;
  readonly field: string | undefined;

  constructor(code: Code, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.reason = options.reason ?? Code[code];
    this.metadata = options.metadata ?? {};
    this.field = options.field;
  }
}

export class InvalidArgument extends DomainError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(Code.INVALID_ARGUMENT, message, { reason: 'INVALID_ARGUMENT', ...options });
  }
}

export class NotFound extends DomainError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(Code.NOT_FOUND, message, { reason: 'NOT_FOUND', ...options });
  }
}

export class AlreadyExists extends DomainError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(Code.ALREADY_EXISTS, message, { reason: 'ALREADY_EXISTS', ...options });
  }
}

export class PermissionDenied extends DomainError {
  constructor(message = 'permission denied', options: ErrorOptions = {}) {
    super(Code.PERMISSION_DENIED, message, { reason: 'PERMISSION_DENIED', ...options });
  }
}

export class Unauthenticated extends DomainError {
  constructor(message = 'authentication required', options: ErrorOptions = {}) {
    super(Code.UNAUTHENTICATED, message, { reason: 'UNAUTHENTICATED', ...options });
  }
}

export class FailedPrecondition extends DomainError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(Code.FAILED_PRECONDITION, message, { reason: 'FAILED_PRECONDITION', ...options });
  }
}

export class ResourceExhausted extends DomainError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(Code.RESOURCE_EXHAUSTED, message, { reason: 'RESOURCE_EXHAUSTED', ...options });
  }
}

export class Unimplemented extends DomainError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(Code.UNIMPLEMENTED, message, { reason: 'UNIMPLEMENTED', ...options });
  }
}

export class Unavailable extends DomainError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(Code.UNAVAILABLE, message, { reason: 'UNAVAILABLE', ...options });
  }
}

/** Wraps anything foreign into a DomainError without leaking internals. */
export function toDomainError(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  return new DomainError(Code.INTERNAL, 'internal error', { reason: 'INTERNAL', cause: err });
}
