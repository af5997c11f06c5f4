/** The agent's gRPC channel credentials from [agent] ca_file, cert_file and key_file. */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../config/config-error.js';
import type { AgentConfig } from '../config/types.js';

type TlsKeys = Pick<AgentConfig, 'caFile' | 'certFile' | 'keyFile'>;

/**
 * Plain (insecure) when none of the three keys is set. Otherwise TLS:
 * the server is verified against ca_file (the system's CAs when unset), and
 * cert_file with key_file add a client certificate (mTLS); one without the
 * other is a ConfigError, as is a file that cannot be read.
 */
export function agentChannelCredentials(agent: TlsKeys): grpc.ChannelCredentials {
  const { caFile, certFile, keyFile } = agent;
  if (caFile === undefined && certFile === undefined && keyFile === undefined) return grpc.credentials.createInsecure();
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [set, missing] = certFile === undefined ? ['key_file', 'cert_file'] : ['cert_file', 'key_file'];
    throw new ConfigError(`${set} is set in [agent] but ${missing} is not: a client certificate needs both`, {
      key: missing,
      section: 'agent',
    });
  }
  const ca = caFile === undefined ? null : read(caFile, 'ca_file');
  const key = keyFile === undefined ? null : read(keyFile, 'key_file');
  const cert = certFile === undefined ? null : read(certFile, 'cert_file');
  return grpc.credentials.createSsl(ca, key, cert);
}

function read(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${key} in [agent]: cannot read ${file} (${(err as Error).message})`, { key, section: 'agent', cause: err });
  }
}
