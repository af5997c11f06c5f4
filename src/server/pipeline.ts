/**
 * The interceptor chain every call goes through, whatever its transport:
 * request id → logging → authentication → handler. Transports turn the
 * DomainError it may throw into their own wire format (errors/status.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { LOCAL_ADMIN, type Principal } from '../auth/principal.js';
import { type DomainError, Code, PermissionDenied, toDomainError, Unauthenticated } from '../errors/domain-error.js';
import type { CallContext, IncomingCall } from './call-context.js';

/** Context being built up by interceptors. */
export interface PartialContext {
  call: IncomingCall;
  requestId?: string;
  principal?: Principal;
  logger: Logger;
}

export type Next<T> = (ctx: PartialContext) => Promise<T>;
export type Interceptor = <T>(ctx: PartialContext, next: Next<T>) => Promise<T>;

export type Authenticate = (call: IncomingCall) => Promise<Principal | undefined>;

/** The only methods an agent's (node's) credentials reach. */
export const NODE_METHODS: ReadonlySet<string> = new Set([
  'scrapydd.v1.NodeSessionService/StreamNodeSession',
  'scrapydd.v1.NodeSessionService/FetchEgg',
]);

/**
 * Methods that need no principal because the request carries its own
 * credential (CreateNode: a node key and its secret). Transports mark them
 * public; bad Authorization headers are still refused.
 */
export const SELF_AUTHENTICATING_METHODS: ReadonlySet<string> = new Set(['scrapydd.v1.NodeService/CreateNode']);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestIdInterceptor: Interceptor = (ctx, next) => {
  const requestId = ctx.call.requestId && REQUEST_ID.test(ctx.call.requestId) ? ctx.call.requestId : randomUUID();
  return next({ ...ctx, requestId, logger: ctx.logger.child({ requestId }) });
};

/** One log line per call, with its outcome and duration; never credentials. */
export const loggingInterceptor: Interceptor = async (ctx, next) => {
  const started = process.hrtime.bigint();
  const fields = () => ({
    transport: ctx.call.transport,
    method: ctx.call.method,
    peer: ctx.call.peerAddress,
    durationMs: Number(process.hrtime.bigint() - started) / 1e6,
  });
  try {
    const result = await next(ctx);
    ctx.logger.debug({ ...fields(), code: 'OK' }, 'call');
    return result;
  } catch (raw) {
    const err: DomainError = toDomainError(raw);
    if (err.code === Code.INTERNAL) ctx.logger.error({ ...fields(), err: raw }, 'call failed');
    else ctx.logger.info({ ...fields(), code: Code[err.code], reason: err.reason }, 'call rejected');
    throw err;
  }
};

export function authInterceptor(enabled: boolean, authenticate: Authenticate): Interceptor {
  return async (ctx, next) => {
    if (!enabled) return next({ ...ctx, principal: LOCAL_ADMIN });
    const principal = await authenticate(ctx.call);
    if (!principal && !ctx.call.public) {
      throw new Unauthenticated('authentication required: send HTTP Basic credentials or "Authorization: Bearer <api key>"');
    }
    if (principal?.nodeId !== undefined && !NODE_METHODS.has(ctx.call.method)) {
      throw new PermissionDenied('node credentials are only for the agent session');
    }
    return next({ ...ctx, principal, logger: principal ? ctx.logger.child({ user: principal.username }) : ctx.logger });
  };
}

export class Pipeline {
  constructor(
    private readonly logger: Logger,
    private readonly interceptors: readonly Interceptor[],
  ) {}

  /** Runs `handler` behind every interceptor; rejects with a DomainError. */
  run<T>(call: IncomingCall, handler: (ctx: CallContext) => Promise<T>): Promise<T> {
    const last: Next<T> = (ctx) =>
      handler({
        call: ctx.call,
        requestId: ctx.requestId ?? randomUUID(),
        principal: ctx.principal ?? ANONYMOUS,
        logger: ctx.logger,
      });
    const chain = this.interceptors.reduceRight<Next<T>>((next, icpt) => (ctx) => icpt(ctx, next), last);
    return chain({ call, logger: this.logger }).catch((err: unknown) => {
      throw toDomainError(err);
    });
  }
}

/** Only public calls run without a principal. */
const ANONYMOUS: Principal = Object.freeze({ userId: undefined, username: 'anonymous', admin: false, method: 'none' });
