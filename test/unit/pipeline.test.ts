import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Principal } from '../../src/auth/principal.js';
import { Code, DomainError, Unauthenticated } from '../../src/errors/domain-error.js';
import type { IncomingCall } from '../../src/server/call-context.js';
import { authInterceptor, loggingInterceptor, Pipeline, requestIdInterceptor } from '../../src/server/pipeline.js';

const logger = pino({ level: 'silent' });
const alice: Principal = { userId: '1', username: 'alice', admin: false, method: 'password' };
const call = (over: Partial<IncomingCall> = {}): IncomingCall => ({
  transport: 'rest', method: 'scrapydd.v1.ProjectService/ListProjects', authorization: undefined,
  peerAddress: '127.0.0.1', requestId: undefined, public: false, ...over,
});
const pipeline = (enabled: boolean) =>
  new Pipeline(logger, [
    requestIdInterceptor,
    loggingInterceptor,
    authInterceptor(enabled, async ({ authorization: auth }) => {
      if (auth === undefined) return undefined;
      if (auth === 'Bearer good') return alice;
      throw new Unauthenticated('invalid API key');
    }),
  ]);

describe('the interceptor chain', () => {
  it('refuses calls without credentials', async () => {
    await assert.rejects(pipeline(true).run(call(), async () => 'ran'), (e: DomainError) => e.code === Code.UNAUTHENTICATED);
  });

  it('refuses bad credentials even on public calls', async () => {
    await assert.rejects(pipeline(true).run(call({ authorization: 'Bearer bad', public: true }), async () => 'ran'), /invalid API key/);
  });

  it('passes the principal and a request id to the handler', async () => {
    const seen = await pipeline(true).run(call({ authorization: 'Bearer good', requestId: 'req-1' }), async (ctx) => [ctx.principal.username, ctx.requestId]);
    assert.deepEqual(seen, ['alice', 'req-1']);
  });

  it('replaces an unsafe client request id', async () => {
    const id = await pipeline(true).run(call({ authorization: 'Bearer good', requestId: 'x\ny' }), async (ctx) => ctx.requestId);
    assert.match(id, /^[0-9a-f-]{36}$/);
  });

  it('acts as the local admin when authentication is off', async () => {
    const p = await pipeline(false).run(call(), async (ctx) => ctx.principal);
    assert.equal(p.admin, true);
    assert.equal(p.username, 'local');
  });

  it('lets node credentials reach only the agent methods', async () => {
    const node: Principal = { userId: undefined, username: 'nodes/7', admin: false, method: 'node-token', nodeId: '7' };
    const p = new Pipeline(logger, [authInterceptor(true, async () => node)]);
    await assert.rejects(p.run(call({ authorization: 'Bearer n' }), async () => 'ran'), (e: DomainError) => e.code === Code.PERMISSION_DENIED);
    const ok = await p.run(call({ authorization: 'Bearer n', method: 'scrapydd.v1.NodeSessionService/FetchEgg' }), async () => 'ran');
    assert.equal(ok, 'ran');
  });

  it('turns foreign errors into INTERNAL without their message', async () => {
    await assert.rejects(
      pipeline(false).run(call(), async () => {
        throw new Error('secret detail');
      }),
      (e: DomainError) => e.code === Code.INTERNAL && e.message === 'internal error',
    );
  });
});
