/**
 * Server reflection behind the same authentication as every other call: the
 * reflection service's stream handlers run only once the caller's metadata
 * has passed the authenticator (grpcurl sends `-H` headers with reflection).
 */
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type * as protoLoader from '@grpc/proto-loader';
import type { Principal } from '../../auth/principal.js';
import { PermissionDenied, toDomainError, Unauthenticated } from '../../errors/domain-error.js';
import { incomingCall, toServiceError } from './grpc-services.js';
import type { IncomingCall } from '../call-context.js';

export function addGuardedReflection(
  server: grpc.Server,
  definition: protoLoader.PackageDefinition,
  enabled: boolean,
  authenticate: (call: IncomingCall) => Promise<Principal | undefined>,
): void {
  const guard = async (call: grpc.ServerDuplexStream<unknown, unknown>): Promise<void> => {
    if (!enabled) return;
    const principal = await authenticate(incomingCall(call, '/grpc.reflection/ServerReflectionInfo'));
    if (!principal) throw new Unauthenticated('authentication required: send HTTP Basic credentials or "Authorization: Bearer <api key>"');
    if (principal.nodeId !== undefined) throw new PermissionDenied('node credentials are only for the agent session');
  };
  new ReflectionService(definition).addToServer({
    addService(service: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) {
      const guarded: grpc.UntypedServiceImplementation = {};
      for (const [name, handler] of Object.entries(impl)) {
        guarded[name] = ((call: grpc.ServerDuplexStream<unknown, unknown>) => {
          guard(call).then(
            () => (handler as grpc.handleBidiStreamingCall<unknown, unknown>)(call),
            (err: unknown) => call.emit('error', toServiceError(toDomainError(err))),
          );
        }) as grpc.handleBidiStreamingCall<unknown, unknown>;
      }
      server.addService(service, guarded);
    },
  });
}
