/** What every handler gets besides its request: who calls, from where, and a logger. */
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';

export type Transport = 'grpc' | 'rest' | 'scrapyd';

/** The call as the transports describe it, before any interceptor runs. */
export interface IncomingCall {
  readonly transport: Transport;
  /** e.g. scrapydd.v1.ProjectService/GetProject, or scrapyd/listprojects.json */
  readonly method: string;
  /** The Authorization header or metadata value, if any. */
  readonly authorization: string | undefined;
  readonly peerAddress: string;
  /** A client-chosen x-request-id, kept when it looks sane. */
  readonly requestId: string | undefined;
  /** Health and similar calls that need no credentials. */
  readonly public: boolean;
  /** The verified client certificate of a TLS connection (mTLS), if any. */
  readonly clientCertificate?: ClientCertificate;
  /** What an HTTP request says about the web UI's cookie session; unset for gRPC. */
  readonly web?: WebRequest;
}

/** The web UI's session cookie and what CSRF checks need, from an HTTP request (http/web-request.ts). */
export interface WebRequest {
  /** The scrapydd_session cookie's value, if sent. */
  readonly sessionToken: string | undefined;
  /** The X-CSRF-Token header, if sent. */
  readonly csrfToken: string | undefined;
  /** The Origin header, if sent. */
  readonly origin: string | undefined;
  /** The Host header. */
  readonly host: string | undefined;
  /** POST, PUT, PATCH, DELETE, ...: anything but GET, HEAD and OPTIONS. */
  readonly stateChanging: boolean;
}

export interface ClientCertificate {
  /** Subject common name, e.g. nodes/1234 for an agent certificate made by `scrapydd cert`. */
  readonly commonName: string;
  /** SHA-256 fingerprint, colon-separated hex as Node prints it. */
  readonly fingerprint256: string;
}

export interface CallContext {
  readonly call: IncomingCall;
  readonly requestId: string;
  readonly principal: Principal;
  readonly logger: Logger;
}
