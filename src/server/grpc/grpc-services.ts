/**
 * Adapts service bindings to grpc-js: every call goes through the pipeline,
 * and DomainErrors leave as status codes with google.rpc.Status details.
 */
import * as grpc from '@grpc/grpc-js';
import { SELF_AUTHENTICATING_METHODS, type Pipeline } from '../pipeline.js';
import type { IncomingCall } from '../call-context.js';
import { Unimplemented, type DomainError } from '../../errors/domain-error.js';
import { Status } from '../../../gen/google/rpc/status.js';
import { toStatusProto } from '../errors/status.js';
import { toClientCertificate } from '../../tls/client-certificate.js';
import type { BidiStream, ServerStream, ServiceBinding } from '../services/service-binding.js';

type AnyCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;

/** How a gRPC call describes itself to the pipeline. */
export function incomingCall(call: AnyCall, path: string): IncomingCall {
  const first = (key: string) => {
    const v = call.metadata.get(key)[0];
    return typeof v === 'string' ? v : undefined;
  };
  const method = path.replace(/^\//, '');
  return {
    transport: 'grpc',
    method,
    authorization: first('authorization'),
    peerAddress: peerAddress(call.getPeer()),
    requestId: first('x-request-id'),
    public: SELF_AUTHENTICATING_METHODS.has(method),
    // Set only when TLS verified the certificate (client_validation on the HTTPS port).
    clientCertificate: toClientCertificate(call.getAuthContext().sslPeerCertificate),
  };
}

/** "ipv4:1.2.3.4:5" / "1.2.3.4:5" / "[::1]:5" → the address alone. */
function peerAddress(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const m = /^\[(.*)\]:\d+$/.exec(bare) ?? /^(.*):\d+$/.exec(bare);
  return m ? m[1]! : bare;
}

export function toServiceError(err: DomainError): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(Status.encode(toStatusProto(err)).finish()));
  return { code: err.code as number as grpc.status, details: err.message, metadata };
}

export function addServices(server: grpc.Server, pipeline: Pipeline, bindings: readonly ServiceBinding[]): void {
  for (const binding of bindings) {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [key, def] of Object.entries(binding.definition)) {
      const handler = binding.impl[key] as ((...args: unknown[]) => Promise<unknown>) | undefined;
      const run = (call: AnyCall, fn: (ctx: Parameters<Parameters<Pipeline['run']>[1]>[0]) => Promise<unknown>) =>
        pipeline.run(incomingCall(call, def.path), (ctx) => {
          if (!handler) throw new Unimplemented(`${def.path.slice(1)} is not implemented yet`);
          return fn(ctx);
        });
      if (!def.requestStream && !def.responseStream) {
        impl[key] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          run(call, (ctx) => handler!(call.request, ctx)).then(
            (res) => callback(null, res),
            (err: DomainError) => callback(toServiceError(err)),
          );
        }) as grpc.handleUnaryCall<unknown, unknown>;
      } else if (def.requestStream && !def.responseStream) {
        impl[key] = ((call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          run(call, (ctx) => handler!(call as AsyncIterable<unknown>, ctx)).then(
            (res) => callback(null, res),
            (err: DomainError) => callback(toServiceError(err)),
          );
        }) as grpc.handleClientStreamingCall<unknown, unknown>;
      } else if (!def.requestStream && def.responseStream) {
        impl[key] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
          const controller = new AbortController();
          call.on('cancelled', () => controller.abort());
          const stream: ServerStream<unknown> = {
            signal: controller.signal,
            send: (message) =>
              new Promise<void>((resolve, reject) => {
                if (controller.signal.aborted) return reject(new Error('client went away'));
                call.write(message, (err?: Error | null) => (err ? reject(err) : resolve()));
              }),
          };
          run(call, (ctx) => handler!(call.request, stream, ctx)).then(
            () => call.end(),
            (err: DomainError) => call.emit('error', toServiceError(err)),
          );
        }) as grpc.handleServerStreamingCall<unknown, unknown>;
      } else if (def.requestStream && def.responseStream) {
        impl[key] = ((call: grpc.ServerDuplexStream<unknown, unknown>) => {
          const controller = new AbortController();
          call.on('cancelled', () => controller.abort());
          call.on('close', () => controller.abort());
          const stream: BidiStream<unknown, unknown> = {
            requests: call as AsyncIterable<unknown>,
            signal: controller.signal,
            send: (message) =>
              new Promise<void>((resolve, reject) => call.write(message, (err?: Error | null) => (err ? reject(err) : resolve()))),
          };
          run(call, (ctx) => handler!(stream, ctx)).then(
            () => call.end(),
            (err: DomainError) => call.emit('error', toServiceError(err)),
          );
        }) as grpc.handleBidiStreamingCall<unknown, unknown>;
      }
    }
    server.addService(binding.definition as unknown as grpc.ServiceDefinition, impl);
  }
}
