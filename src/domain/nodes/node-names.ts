/** Resource names of nodes (`nodes/{id}`) and node keys (`nodeKeys/{id}`); both ids are snowflakes. */
import { InvalidArgument } from '../../errors/domain-error.js';
import { parseName } from '../names.js';

const SNOWFLAKE = /^\d{1,20}$/;

export const nodeName = (id: string) => `nodes/${id}`;
export const nodeKeyName = (id: string) => `nodeKeys/${id}`;

function checkSnowflake(id: string, what: string, field: string): string {
  if (!SNOWFLAKE.test(id)) throw new InvalidArgument(`${what} id '${id}' is not valid: expected a decimal number`, { field });
  return id;
}

export function parseNodeName(name: string, field = 'name'): string {
  const [id] = parseName(name, ['nodes'], field);
  return checkSnowflake(id!, 'node', field);
}

export function parseNodeKeyName(name: string, field = 'name'): string {
  const [id] = parseName(name, ['nodeKeys'], field);
  return checkSnowflake(id!, 'node key', field);
}

/** A node key as CreateNode takes it: nodeKeys/{id} or the bare id. */
export function parseNodeKeyRef(ref: string, field = 'node.node_key'): string {
  return ref.includes('/') ? parseNodeKeyName(ref, field) : checkSnowflake(ref, 'node key', field);
}
