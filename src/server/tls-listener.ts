/**
 * The HTTPS port: our own tls.Server terminates TLS and chooses by ALPN. A
 * client offering http/1.1 (browsers and curl offer h2 too) or no ALPN gets
 * the HTTP/1.1 web handler; a client offering only h2 (gRPC) gets grpc-js
 * through the connection injector, where call.getAuthContext() still shows
 * the client certificate. With client_validation, a client without a
 * certificate signed by keys/ca.crt is refused at the handshake.
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import tls from 'node:tls';
import type { ConnectionInjector } from '@grpc/grpc-js/build/src/server.js';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config-error.js';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** keys/ca.crt, read only when client certificates are checked. */
  readonly ca?: Buffer;
}

/**
 * Reads keys/<server_name>.crt and .key (and keys/ca.crt with
 * client_validation) from `keysDir`; a missing file is a ConfigError naming it.
 */
export function readTlsMaterial(keysDir: string, serverName: string, clientValidation: boolean): TlsMaterial {
  const read = (name: string, key: string, hint: string): Buffer => {
    const file = resolve(join(keysDir, name));
    try {
      return readFileSync(file);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
      throw new ConfigError(`${key} is set, but ${file} ${why}; ${hint}`, { key, section: 'server', cause: err });
    }
  };
  const make = `make it with 'scrapydd cert server --name ${serverName}' (after 'scrapydd cert ca'), or set server_name`;
  return {
    cert: read(`${serverName}.crt`, 'https_port', make),
    key: read(`${serverName}.key`, 'https_port', make),
    ...(clientValidation
      ? { ca: read('ca.crt', 'client_validation', "client certificates are checked against it; make it with 'scrapydd cert ca'") }
      : {}),
  };
}

/** The ALPN choice: http/1.1 whenever offered, else h2; undefined refuses the handshake (no_application_protocol). */
export function chooseProtocol(offered: readonly string[]): 'http/1.1' | 'h2' | undefined {
  if (offered.includes('http/1.1')) return 'http/1.1';
  if (offered.includes('h2')) return 'h2';
  return undefined;
}

export interface TlsListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly material: TlsMaterial;
  readonly grpc: ConnectionInjector;
  readonly web: http.Server;
  readonly logger: Logger;
}

export interface TlsListener {
  readonly port: number;
  /** Stops accepting; connections still open after `graceMs` are destroyed. */
  close(graceMs?: number): Promise<void>;
}

export async function startTlsListener(opts: TlsListenerOptions): Promise<TlsListener> {
  const { material, logger } = opts;
  const checkClients = material.ca !== undefined;
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({
    cert: material.cert,
    key: material.key,
    minVersion: 'TLSv1.2',
    ALPNCallback: ({ protocols }) => chooseProtocol(protocols),
    ...(checkClients ? { ca: material.ca, requestCert: true, rejectUnauthorized: true } : {}),
  });
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (socket.alpnProtocol === 'h2') opts.grpc.injectConnection(socket);
    else opts.web.emit('connection', socket);
  });
  server.on('tlsClientError', (err, socket) => {
    logger.debug({ peer: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port, opts.host, () => {
      server.off('error', rej);
      res();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info(
    { address: opts.host, httpsPort: port, clientValidation: checkClients },
    `scrapydd HTTPS (TLS) on ${opts.host}:${port}${checkClients ? ', client certificates required' : ''}`,
  );
  return {
    port,
    close: (graceMs = 1000) =>
      new Promise<void>((res) => {
        const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          res();
        });
      }),
  };
}
