import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, DomainError, InvalidArgument, NotFound, toDomainError } from '../../src/errors/domain-error.js';
import { httpStatusOf, toRestError, toStatusProto } from '../../src/server/errors/status.js';
import { BadRequest, ErrorInfo } from '../../gen/google/rpc/error_details.js';

describe('error mapping', () => {
  it('maps every gRPC code to grpc-gateway\'s HTTP status', () => {
    const expected: [Code, number][] = [
      [Code.CANCELLED, 499], [Code.UNKNOWN, 500], [Code.INVALID_ARGUMENT, 400], [Code.DEADLINE_EXCEEDED, 504],
      [Code.NOT_FOUND, 404], [Code.ALREADY_EXISTS, 409], [Code.PERMISSION_DENIED, 403], [Code.RESOURCE_EXHAUSTED, 429],
      [Code.FAILED_PRECONDITION, 400], [Code.ABORTED, 409], [Code.OUT_OF_RANGE, 400], [Code.UNIMPLEMENTED, 501],
      [Code.INTERNAL, 500], [Code.UNAVAILABLE, 503], [Code.DATA_LOSS, 500], [Code.UNAUTHENTICATED, 401],
    ];
    for (const [code, http] of expected) assert.equal(httpStatusOf(code), http, Code[code]);
  });

  it('puts ErrorInfo and BadRequest in google.rpc.Status details', () => {
    const status = toStatusProto(new InvalidArgument('bad name', { field: 'project_id', reason: 'INVALID_NAME' }));
    assert.equal(status.code, 3);
    assert.equal(status.message, 'bad name');
    assert.equal(status.details[0]!.typeUrl, 'type.googleapis.com/google.rpc.ErrorInfo');
    assert.deepEqual(ErrorInfo.decode(status.details[0]!.value), { reason: 'INVALID_NAME', domain: 'scrapydd.io', metadata: {} });
    assert.equal(BadRequest.decode(status.details[1]!.value).fieldViolations[0]!.field, 'project_id');
  });

  it('writes the AIP-193 JSON error body', () => {
    const { httpStatus, body } = toRestError(new NotFound("project 'x' not found", { reason: 'PROJECT_NOT_FOUND', metadata: { project: 'x' } }));
    assert.equal(httpStatus, 404);
    assert.deepEqual(body, {
      error: {
        code: 404,
        message: "project 'x' not found",
        status: 'NOT_FOUND',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'PROJECT_NOT_FOUND', domain: 'scrapydd.io', metadata: { project: 'x' } }],
      },
    });
  });

  it('never shows a foreign error\'s message', () => {
    const err = toDomainError(new Error('connection string postgres://u:secret@h/db failed'));
    assert.ok(err instanceof DomainError);
    assert.equal(err.code, Code.INTERNAL);
    assert.equal(err.message, 'internal error');
  });
});
