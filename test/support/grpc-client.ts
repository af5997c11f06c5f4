/**
 * Helpers for gRPC integration tests: promisified calls on the generated
 * ts-proto clients, credentials as metadata, decoding google.rpc.Status
 * error details, and a server with an admin user ready to call.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { ErrorInfo } from '../../gen/google/rpc/error_details.js';
import { Status } from '../../gen/google/rpc/status.js';
import type { UploadVersionMetadata, Version, VersionServiceClient } from '../../gen/scrapydd/v1/version.js';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from './databases.js';
import { TEST_PYTHON } from './eggs.js';
import { basic, startTestServer, type TestServer } from './server-process.js';

/** Every call gets a deadline so a hung server fails the test instead of stalling it. */
export const CALL_TIMEOUT_MS = 60_000;

export function callOptions(): Partial<grpc.CallOptions> {
  return { deadline: Date.now() + CALL_TIMEOUT_MS };
}

/** Metadata with an Authorization value (or none). */
export function auth(authorization?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (authorization !== undefined) md.set('authorization', authorization);
  return md;
}

export const bearer = (secret: string) => `Bearer ${secret}`;

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** Calls a unary method of a generated client: `unary(client.getProject.bind(client), req, md)`. */
export function unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, metadata: grpc.Metadata): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, metadata, callOptions(), (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** The error a promise rejects with, asserted to be a gRPC ServiceError. */
export async function grpcError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    if (typeof (err as grpc.ServiceError).code === 'number' && (err as grpc.ServiceError).metadata) return err as grpc.ServiceError;
    throw err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export interface DecodedDetails {
  status: Status;
  errorInfo: ErrorInfo | undefined;
  typeUrls: string[];
}

/** Decodes the grpc-status-details-bin trailer of an error; throws when it is missing. */
export function statusDetails(err: grpc.ServiceError): DecodedDetails {
  const values = err.metadata.get('grpc-status-details-bin');
  if (values.length !== 1 || !Buffer.isBuffer(values[0])) {
    throw new Error(`expected one grpc-status-details-bin trailer, got ${values.length}`);
  }
  const status = Status.decode(values[0]);
  const info = status.details.find((d) => d.typeUrl === 'type.googleapis.com/google.rpc.ErrorInfo');
  return {
    status,
    errorInfo: info ? ErrorInfo.decode(info.value) : undefined,
    typeUrls: status.details.map((d) => d.typeUrl),
  };
}

export interface EggBytes {
  data: Buffer;
  sha256: string;
}

export async function readEgg(path: string): Promise<EggBytes> {
  const data = await readFile(path);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Uploads `data` as metadata then chunks of `chunkSize` bytes over a client stream. */
export function uploadVersion(
  client: VersionServiceClient,
  metadata: grpc.Metadata,
  meta: Partial<UploadVersionMetadata> & { parent: string; versionId: string },
  data: Buffer,
  chunkSize = 1024,
): Promise<Version> {
  return new Promise((resolve, reject) => {
    const stream = client.uploadVersion(metadata, callOptions(), (err, res) => (err ? reject(err) : resolve(res)));
    stream.write({
      payload: { $case: 'metadata', metadata: { createProject: false, sizeBytes: '0', sha256: '', ...meta } },
    });
    for (let off = 0; off < data.length; off += chunkSize) {
      stream.write({ payload: { $case: 'chunk', chunk: data.subarray(off, off + chunkSize) } });
    }
    stream.end();
  });
}

export interface GrpcTestServer {
  readonly db: TestDatabase;
  readonly server: TestServer;
  /** Basic credentials of the admin user `admin`. */
  readonly admin: string;
  close(): Promise<void>;
}

export const ADMIN_PASSWORD = 'admin-password-1';

/** A fresh database and server with an admin `admin`; `close` stops and drops both. */
export async function startGrpcTestServer(kind: TestDatabaseKind, settings: Record<string, string> = {}): Promise<GrpcTestServer> {
  const db = await createTestDatabase(kind);
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ databaseUrl: db.url, settings: { runner_python: TEST_PYTHON, ...settings } });
    await addUser(server, 'admin', ADMIN_PASSWORD, true);
  } catch (err) {
    await server?.stop();
    await db.drop();
    throw err;
  }
  const running = server;
  return {
    db,
    server: running,
    admin: basic('admin', ADMIN_PASSWORD),
    async close() {
      await running.stop();
      await db.drop();
    },
  };
}

export async function addUser(server: TestServer, name: string, password: string, admin = false): Promise<void> {
  const res = await server.cli(['adduser', name, ...(admin ? ['--admin'] : [])], `${password}\n`);
  if (res.code !== 0) throw new Error(`adduser ${name} failed (${res.code}): ${res.stderr}`);
}

/** Closes clients (their channels) so the test process can exit. */
export function closeAll(...clients: grpc.Client[]): void {
  for (const c of clients) c.close();
}
