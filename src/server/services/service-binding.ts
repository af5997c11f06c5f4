/**
 * How a service implementation is typed and registered: one promise-based
 * handler per method, derived from the ts-proto grpc-js definition, shared by
 * the gRPC and REST transports.
 */
import type { CallContext } from '../call-context.js';

interface MethodDef {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestDeserialize: (b: Buffer) => unknown;
  readonly responseSerialize: (v: never) => Buffer;
}

type ReqOf<M> = M extends { requestDeserialize: (b: Buffer) => infer R } ? R : never;
type ResOf<M> = M extends { responseSerialize: (v: infer R) => Buffer } ? R : never;

/** The server side of a bidirectional stream. */
export interface BidiStream<Req, Res> {
  readonly requests: AsyncIterable<Req>;
  send(message: Res): Promise<void>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** The server side of a server-streaming call. */
export interface ServerStream<Res> {
  send(message: Res): Promise<void>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

export type HandlerFor<M> = M extends { requestStream: false; responseStream: false }
  ? (req: ReqOf<M>, ctx: CallContext) => Promise<ResOf<M>>
  : M extends { requestStream: false; responseStream: true }
    ? (req: ReqOf<M>, stream: ServerStream<ResOf<M>>, ctx: CallContext) => Promise<void>
  : M extends { requestStream: true; responseStream: false }
    ? (requests: AsyncIterable<ReqOf<M>>, ctx: CallContext) => Promise<ResOf<M>>
    : M extends { requestStream: true; responseStream: true }
      ? (stream: BidiStream<ReqOf<M>, ResOf<M>>, ctx: CallContext) => Promise<void>
      : never;

export type ServiceImpl<D> = { [K in keyof D]?: HandlerFor<D[K]> };

export interface ServiceBinding {
  /** Fully qualified, e.g. scrapydd.v1.ProjectService */
  readonly name: string;
  readonly definition: Record<string, MethodDef>;
  readonly impl: Record<string, ((...args: never[]) => Promise<unknown>) | undefined>;
}

export function bind<D extends Record<string, MethodDef>>(name: string, definition: D, impl: ServiceImpl<D>): ServiceBinding {
  return { name, definition, impl: impl as ServiceBinding['impl'] };
}

/** The handler of `/pkg.Service/Method` style method names, by short name. */
export function methodKey(binding: ServiceBinding, methodName: string): string | undefined {
  return Object.keys(binding.definition).find((k) => binding.definition[k]!.path.endsWith(`/${methodName}`));
}
