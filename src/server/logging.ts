/** The process logger: JSON lines in production, pretty in a terminal; never secrets. */
import { pino, type Logger } from 'pino';

export function createLogger(opts: { debug: boolean; format: 'json' | 'pretty'; name: string }): Logger {
  const base = {
    name: opts.name,
    level: opts.debug ? 'debug' : 'info',
    redact: { paths: ['authorization', '*.authorization', 'password', '*.password', 'secret', '*.secret'], censor: '[redacted]' },
  };
  if (opts.format === 'pretty') {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(base, pino.destination(2));
}
