/**
 * The server process: one listener on bind_address:bind_port carrying gRPC
 * (with reflection) and HTTP/1.1 (REST, scrapyd API, health, web UI), all calls
 * through one pipeline into one set of handlers; with https_port, the same
 * again over TLS (tls-listener.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/load.js';
import { PACKAGE_VERSION } from '../package-root.js';
import { openAppContext } from './app-context.js';
import { loadApiRoot, loadPackageDefinition } from './api-protos.js';
import { makeAuthenticator } from './auth/authenticator.js';
import { addServices } from './grpc/grpc-services.js';
import { addGuardedReflection } from './grpc/guarded-reflection.js';
import { makeHttpApp } from './http/http-app.js';
import { makeRestHandler } from './http/rest-handler.js';
import { isJobFilePath, makeJobFilesHandler } from './http/job-files.js';
import { isWebhookPath, makeWebhookHandler } from './http/webhook-endpoint.js';
import { isWebSessionPath, makeWebSessionHandler } from './http/web-session-endpoint.js';
import { isWebUiPath, makeWebUiHandler } from './http/web-ui.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { TriggerClock } from '../dispatch/trigger-clock.js';
import { Wakeups } from '../dispatch/wakeups.js';
import { onNodeDeleted } from '../domain/nodes/node-events.js';
import { onTriggersChanged } from '../domain/triggers/trigger-events.js';
import { DeliveryWorker } from '../domain/webhooks/delivery-worker.js';
import { DEFAULT_WEBHOOK_SETTINGS } from '../domain/webhooks/webhook-settings.js';
import { FailureMailSender } from '../notify/failure-mail-sender.js';
import { smtpTransport } from '../notify/smtp-transport.js';
import { createSniffingListener } from './listener.js';
import { authInterceptor, loggingInterceptor, Pipeline, requestIdInterceptor } from './pipeline.js';
import { collectRoutes } from './rest/http-rules.js';
import { RestRouter } from './rest/router.js';
import { makeScrapydApi } from './scrapyd/scrapyd-api.js';
import { allServices } from './services/all-services.js';
import { readTlsMaterial, startTlsListener } from './tls-listener.js';

export interface RunningServer {
  readonly port: number;
  /** Set when https_port is. */
  readonly httpsPort?: number;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  const startTime = new Date();
  // keys/ is relative to the working directory; read before anything opens so a missing file stops start-up cleanly.
  const tlsMaterial = config.httpsPort === undefined ? undefined : readTlsMaterial('keys', config.serverName, config.clientValidation);
  const app = await openAppContext(config, logger);
  const wakeups = new Wakeups(app.deps.db, config.database.kind === 'postgres' ? config.database.url : undefined, logger);
  // job_fail_send_mail: mails are queued with the job's end and sent from here.
  const mailSender = config.failureMail && new FailureMailSender(app.deps.db, smtpTransport(config.failureMail.smtp), logger);
  const failureMail = config.failureMail && mailSender && { receivers: config.failureMail.receivers, wake: () => mailSender.wake() };
  const deps = { ...app.deps, events: wakeups, ...(failureMail ? { failureMail } : {}) };
  const dispatcher = new Dispatcher(deps, wakeups, {
    nodeTimeoutSeconds: config.nodeTimeoutSeconds,
    cancelGraceSeconds: config.cancelGraceSeconds,
    sweepIntervalMs: 1000,
  }, logger);
  const triggerClock = new TriggerClock(deps, { misfireGraceSeconds: config.misfireGraceSeconds }, logger);
  const authenticate = makeAuthenticator(deps);
  const pipeline = new Pipeline(logger, [
    requestIdInterceptor,
    loggingInterceptor,
    authInterceptor(config.enableAuthentication, authenticate),
  ]);
  const bindings = allServices(deps, dispatcher, {
    heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
    nodeTimeoutSeconds: config.nodeTimeoutSeconds,
    cancelGraceSeconds: config.cancelGraceSeconds,
    enableAuthentication: config.enableAuthentication,
  }, { config, startTime });

  const grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  addServices(grpcServer, pipeline, bindings);
  addGuardedReflection(grpcServer, loadPackageDefinition(), config.enableAuthentication, authenticate);
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());

  const router = new RestRouter(collectRoutes(loadApiRoot()));
  const web = http.createServer(
    { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 },
    makeHttpApp({
      logger,
      ready: async () => (await deps.db.query('SELECT 1 AS one')).length === 1,
      rest: makeRestHandler({ router, bindings, pipeline, maxUploadSizeBytes: config.maxUploadSizeBytes }),
      scrapyd: makeScrapydApi({ deps, pipeline, nodeName: config.nodeName }),
      jobFiles: { handles: isJobFilePath, handle: makeJobFilesHandler(deps, pipeline) },
      webhook: { handles: isWebhookPath, handle: makeWebhookHandler(deps, pipeline) },
      webUi: { handles: isWebUiPath, handle: makeWebUiHandler() },
      webSession: { handles: isWebSessionPath, handle: makeWebSessionHandler(deps, pipeline) },
    }),
  );
  const webhookWorker = new DeliveryWorker(deps.db, deps.settings.webhooks ?? DEFAULT_WEBHOOK_SETTINGS, logger.child({ component: 'webhooks' }));
  await wakeups.start();
  dispatcher.start();
  triggerClock.start();
  webhookWorker.start();
  mailSender?.start();
  // A deleted node's stream ends here at once; other servers notice at its next heartbeat.
  const unsubscribe = onNodeDeleted((nodeId) => dispatcher.sessionOfNode(nodeId)?.end('node deleted'));
  // Trigger edits wake the other servers' clocks too (NOTIFY on PostgreSQL), not only this one's.
  const unsubscribeTriggers = onTriggersChanged(() => wakeups.triggersChanged());
  wakeups.on('wakeup', (w) => {
    if (w.type === 'triggers') triggerClock.wake();
  });
  const listener = createSniffingListener(injector, web);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(config.bindPort, config.bindAddress, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const port = (listener.address() as AddressInfo).port;
  const tlsListener =
    tlsMaterial && (await startTlsListener({ host: config.bindAddress, port: config.httpsPort!, material: tlsMaterial, grpc: injector, web, logger }));
  logger.info(
    { address: config.bindAddress, port, version: PACKAGE_VERSION, authentication: config.enableAuthentication, failureMail: config.failureMail !== undefined },
    `scrapydd server listening on ${config.bindAddress}:${port}`,
  );

  return {
    port,
    ...(tlsListener ? { httpsPort: tlsListener.port } : {}),
    async close() {
      unsubscribe();
      unsubscribeTriggers();
      dispatcher.stop();
      await triggerClock.stop();
      await webhookWorker.stop();
      await mailSender?.stop();
      await wakeups.close();
      const tlsClosed = tlsListener?.close(1000);
      // Stop accepting, then end the open connections: close() alone would wait for idle keep-alive clients.
      const listenerClosed = new Promise<void>((resolve) => listener.close(() => resolve()));
      web.closeAllConnections();
      injector.drain(1000);
      await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      injector.destroy();
      await Promise.all([listenerClosed, tlsClosed]);
      await app.close();
    },
  };
}
