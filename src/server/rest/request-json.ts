// Assembles path, body and query into the proto3 JSON that ts-proto's fromJSON expects (http.proto rules).
import type protobuf from 'protobufjs';
import { InvalidArgument } from '../../errors/domain-error.js';
import type { HttpRoute } from './http-rules.js';
import {
  enumTypeOf, findField, getOwn, isJsonObject, isMapField, isWellKnown, messageTypeOf, resolveFieldPath, setOwn,
} from './field-lookup.js';
import { coerceScalar, queryAssignments } from './query-params.js';

type Json = Record<string, unknown>;

/** Copies a body message renaming known keys to their JSON names (recursively); unknown keys are kept. */
function canonicalMessage(type: protobuf.Type, source: Json, at: string): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(source)) {
    const field = findField(type, key);
    const name = field ? field.jsonName : key;
    if (getOwn(out, name) !== undefined) {
      throw new InvalidArgument(`field "${at}${name}" is set twice in the request body`, { field: `${at}${name}` });
    }
    setOwn(out, name, field ? canonicalValue(field, value, `${at}${name}`) : value);
  }
  return out;
}

function canonicalValue(field: protobuf.Field, value: unknown, at: string): unknown {
  const message = messageTypeOf(field);
  if (!message || isWellKnown(message)) return value;
  const one = (v: unknown, where: string): unknown => (isJsonObject(v) ? canonicalMessage(message, v, `${where}.`) : v);
  if (isMapField(field)) {
    if (!isJsonObject(value)) return value;
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, one(v, `${at}[${k}]`));
    return out;
  }
  if (field.repeated) return Array.isArray(value) ? value.map((v, i) => one(v, `${at}[${i}]`)) : value;
  return one(value, at);
}

/** Checks the shape `body: "field"` demands before the body is placed into that field. */
function bodyForField(field: protobuf.Field, body: unknown): unknown {
  if (field.repeated && !isMapField(field)) {
    if (!Array.isArray(body)) throw new InvalidArgument('request body must be a JSON array', { field: field.protoName });
  } else if (isMapField(field) || (messageTypeOf(field) && !isWellKnown(messageTypeOf(field)!))) {
    if (!isJsonObject(body)) throw new InvalidArgument('request body must be a JSON object', { field: field.protoName });
  }
  return canonicalValue(field, body, field.jsonName);
}

const sameValue = (a: unknown, b: unknown): boolean =>
  (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean') && String(a) === String(b);

/** Sets a (nested) field; a different value already there (from the body) is a conflict. */
function assign(target: Json, fields: protobuf.Field[], value: unknown, source: string): void {
  let node = target;
  for (const [i, field] of fields.slice(0, -1).entries()) {
    const current = getOwn(node, field.jsonName);
    if (isJsonObject(current)) {
      node = current;
      continue;
    }
    if (current !== undefined && current !== null) {
      const at = fields.slice(0, i + 1).map((f) => f.jsonName).join('.');
      throw new InvalidArgument(`request body field "${at}" must be a JSON object`, { field: at });
    }
    const next: Json = {};
    setOwn(node, field.jsonName, next);
    node = next;
  }
  const key = fields[fields.length - 1]!.jsonName;
  const current = getOwn(node, key);
  if (current !== undefined && current !== null && !sameValue(current, value)) {
    throw new InvalidArgument(
      `"${source}" is "${String(value)}" in the URL path but ${JSON.stringify(current)} in the request body`,
      { field: source },
    );
  }
  setOwn(node, key, value);
}

const isPrefix = (a: protobuf.Field[], b: protobuf.Field[]): boolean => a.every((f, i) => b[i] === f);

/**
 * Builds the request's proto3 JSON (lowerCamelCase keys). `body` is the parsed JSON body, or
 * undefined when the request had none. Precedence and decisions:
 * - body "*": the body must be a JSON object (an absent body counts as {}); query parameters are
 *   ignored, since http.proto puts every non-path field in the body.
 * - no body rule: a request body, if any, is ignored.
 * - body "field": the body becomes that field (object for messages/maps, array for repeated).
 * - path variables set (possibly nested) fields; if the body already holds a *different* value for
 *   the same field, that is InvalidArgument rather than a silent override; equal values are fine.
 * - query parameters fill fields bound neither by path nor body; parameters naming bound fields
 *   and unknown parameters are ignored (proxies and clients add `_`, `alt`, cache busters, and
 *   newer clients may send fields this server does not know yet).
 */
export function buildRequestJson(
  route: HttpRoute,
  pathParams: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
): Json {
  let result: Json = {};
  let bodyField: protobuf.Field | undefined;
  if (route.body === '*') {
    if (body !== undefined && !isJsonObject(body)) throw new InvalidArgument('request body must be a JSON object');
    if (body !== undefined) result = canonicalMessage(route.requestType, body, '');
  } else if (route.body !== '') {
    bodyField = findField(route.requestType, route.body);
    if (!bodyField) throw new Error(`body field "${route.body}" not found in ${route.requestType.fullName}`);
    if (body !== undefined) setOwn(result, bodyField.jsonName, bodyForField(bodyField, body));
  }

  const pathFields: protobuf.Field[][] = [];
  for (const v of route.template.variables) {
    const raw = getOwn(pathParams, v.fieldPath);
    if (typeof raw !== 'string') continue;
    const walked = resolveFieldPath(route.requestType, v.fieldPath);
    if (!walked.ok) throw new Error(`path variable {${v.fieldPath}}: ${walked.reason}`);
    pathFields.push(walked.fields);
    const value = coerceScalar(walked.fields[walked.fields.length - 1]!, raw, v.fieldPath, 'path');
    assign(result, walked.fields, value, v.fieldPath);
  }

  if (route.body !== '*') {
    const bound = (fields: protobuf.Field[]): boolean =>
      fields[0] === bodyField || pathFields.some((p) => isPrefix(p, fields) || isPrefix(fields, p));
    for (const a of queryAssignments(route.requestType, query, bound)) assign(result, a.fields, a.value, a.param);
  }
  return result;
}

/** The proto3 JSON default of a field, used when `response_body` names a field the message omitted. */
function defaultJson(field: protobuf.Field): unknown {
  if (isMapField(field)) return {};
  if (field.repeated) return [];
  const message = messageTypeOf(field);
  if (message) return isWellKnown(message) ? null : {};
  const enumType = enumTypeOf(field);
  if (enumType) return enumType.valuesById[0] ?? 0;
  if (field.type === 'bool') return false;
  if (field.type === 'string' || field.type === 'bytes') return '';
  return /64$/.test(field.type) ? '0' : 0;
}

/**
 * Applies `response_body`: the whole JSON when empty, else the named top-level field of the
 * response (its proto3 default when toJSON omitted it).
 */
export function responseJson(route: HttpRoute, json: unknown): unknown {
  if (route.responseBody === '') return json;
  const field = findField(route.responseType, route.responseBody);
  if (!field) throw new Error(`response_body "${route.responseBody}" not found in ${route.responseType.fullName}`);
  const value = isJsonObject(json) ? (getOwn(json, field.jsonName) ?? getOwn(json, field.protoName)) : undefined;
  return value === undefined ? defaultJson(field) : value;
}
