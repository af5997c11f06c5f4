/**
 * One port for everything: a connection that opens with the HTTP/2 preface
 * (`PRI * HTTP/2.0`) is gRPC and goes to grpc-js through a connection
 * injector; anything else is HTTP/1.1 (REST, scrapyd API, web UI). The TLS
 * port (tls-listener.ts) makes the same choice by ALPN instead.
 */
import net from 'node:net';
import type http from 'node:http';
import type { ConnectionInjector } from '@grpc/grpc-js/build/src/server.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function createSniffingListener(grpc: ConnectionInjector, web: http.Server): net.Server {
  return net.createServer({ noDelay: true }, (socket) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && seen.length < PREFACE.length) return; // need more bytes to decide
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (isH2) {
        // http2 reads the buffered bytes itself and then consumes the native
        // handle; resuming here would steal its data.
        grpc.injectConnection(socket);
      } else {
        web.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });
}
