/**
 * The one place domain errors become wire errors: google.rpc.Status with
 * ErrorInfo (and BadRequest for a field) for gRPC, the same as JSON for REST
 * with grpc-gateway's HTTP status mapping. Messages of internal errors never
 * reach the client.
 */
import { Code, type DomainError } from '../../errors/domain-error.js';
import { Any } from '../../../gen/google/protobuf/any.js';
import { Status } from '../../../gen/google/rpc/status.js';
import { BadRequest, ErrorInfo } from '../../../gen/google/rpc/error_details.js';

export const ERROR_DOMAIN = 'scrapydd.io';

const HTTP_STATUS: Record<Code, number> = {
  [Code.OK]: 200,
  [Code.CANCELLED]: 499,
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.DEADLINE_EXCEEDED]: 504,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.RESOURCE_EXHAUSTED]: 429,
  [Code.FAILED_PRECONDITION]: 400,
  [Code.ABORTED]: 409,
  [Code.OUT_OF_RANGE]: 400,
  [Code.UNIMPLEMENTED]: 501,
  [Code.INTERNAL]: 500,
  [Code.UNAVAILABLE]: 503,
  [Code.DATA_LOSS]: 500,
  [Code.UNAUTHENTICATED]: 401,
};

export function httpStatusOf(code: Code): number {
  return HTTP_STATUS[code] ?? 500;
}

const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

function errorInfo(err: DomainError): ErrorInfo {
  return { reason: err.reason, domain: ERROR_DOMAIN, metadata: err.metadata };
}

function badRequest(err: DomainError): BadRequest | undefined {
  if (err.field === undefined) return undefined;
  return { fieldViolations: [{ field: err.field, description: err.message, reason: err.reason, localizedMessage: undefined }] };
}

/** google.rpc.Status for the grpc-status-details-bin trailer. */
export function toStatusProto(err: DomainError): Status {
  const details: Any[] = [{ typeUrl: ERROR_INFO_TYPE, value: Buffer.from(ErrorInfo.encode(errorInfo(err)).finish()) }];
  const br = badRequest(err);
  if (br) details.push({ typeUrl: BAD_REQUEST_TYPE, value: Buffer.from(BadRequest.encode(br).finish()) });
  return { code: err.code, message: err.message, details };
}

/** AIP-193 JSON error body: {"error": {code, message, status, details}}. */
export function toRestError(err: DomainError): { httpStatus: number; body: unknown } {
  const details: unknown[] = [{ '@type': ERROR_INFO_TYPE, ...ErrorInfo.toJSON(errorInfo(err)) as object }];
  const br = badRequest(err);
  if (br) details.push({ '@type': BAD_REQUEST_TYPE, ...BadRequest.toJSON(br) as object });
  const httpStatus = httpStatusOf(err.code);
  return { httpStatus, body: { error: { code: httpStatus, message: err.message, status: Code[err.code], details } } };
}
