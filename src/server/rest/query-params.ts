// Query strings carry only text; coerce each value by its proto field type so fromJSON receives valid proto3 JSON.
import type protobuf from 'protobufjs';
import { InvalidArgument } from '../../errors/domain-error.js';
import { enumTypeOf, isMapField, isWellKnown, messageTypeOf, resolveFieldPath, typeName } from './field-lookup.js';

/** A query parameter resolved to a request field path and its coerced proto3 JSON value. */
export interface QueryAssignment {
  param: string;
  fields: protobuf.Field[];
  value: unknown;
}

const INT = /^-?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const DURATION = /^-?\d{1,12}(\.\d{1,9})?s$/;
const FLOAT_MAX = 3.4028234663852886e38;

const I32: [bigint, bigint] = [-(2n ** 31n), 2n ** 31n - 1n];
const U32: [bigint, bigint] = [0n, 2n ** 32n - 1n];
const I64: [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
const U64: [bigint, bigint] = [0n, 2n ** 64n - 1n];
const INT_RANGE: Record<string, [bigint, bigint]> = {
  int32: I32, sint32: I32, sfixed32: I32, uint32: U32, fixed32: U32,
  int64: I64, sint64: I64, sfixed64: I64, uint64: U64, fixed64: U64,
};

/** Where a text value came from, for error messages. */
export type ValueSource = 'query' | 'path';

function invalid(param: string, expected: string, raw: string, source: ValueSource = 'query'): never {
  throw new InvalidArgument(`invalid value for ${source} parameter "${param}": expected ${expected}, got "${raw}"`, {
    field: param,
  });
}

function coerceNumber(type: string, raw: string, param: string, source: ValueSource): number | string {
  if (raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity') return raw; // proto3 JSON spelling
  const value = FLOAT.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value)) invalid(param, `a number (${type})`, raw, source);
  if (type === 'float' && Math.abs(value) > FLOAT_MAX) invalid(param, 'a number within float range', raw, source);
  return value;
}

function coerceEnum(type: protobuf.Enum, raw: string, param: string, source: ValueSource): string {
  if (Object.prototype.hasOwnProperty.call(type.values, raw)) return raw;
  const byNumber = INT.test(raw) ? type.valuesById[Number(raw)] : undefined;
  if (byNumber !== undefined) return byNumber;
  return invalid(param, `one of ${Object.keys(type.values).join(', ')}`, raw, source);
}

/** Coerces one text value for a scalar or enum field (64-bit integers become decimal strings). */
export function coerceScalar(field: protobuf.Field, raw: string, param: string, source: ValueSource = 'query'): unknown {
  const enumType = enumTypeOf(field);
  if (enumType) return coerceEnum(enumType, raw, param, source);
  const range = INT_RANGE[field.type];
  if (range) {
    if (!INT.test(raw)) invalid(param, `an integer (${field.type})`, raw, source);
    const value = BigInt(raw);
    if (value < range[0] || value > range[1]) invalid(param, `an integer in ${field.type} range`, raw, source);
    return range === I64 || range === U64 ? value.toString() : Number(value);
  }
  switch (field.type) {
    case 'bool':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return invalid(param, 'true, false, 1 or 0', raw, source);
    case 'double':
    case 'float':
      return coerceNumber(field.type, raw, param, source);
    case 'string':
    case 'bytes':
      return raw;
    default:
      throw new InvalidArgument(`${source} parameter "${param}" has unsupported type ${field.type}`, { field: param });
  }
}

function isTimestamp(raw: string): boolean {
  const m = TIMESTAMP.exec(raw);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  const dateOk = y >= 1 && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
  const offsetOk = m[8] === undefined || (Number(m[8]) <= 23 && Number(m[9]) <= 59);
  return dateOk && h <= 23 && mi <= 59 && s <= 59 && offsetOk;
}

/** Well-known types whose proto3 JSON form is a single string or primitive. */
function coerceWellKnown(type: protobuf.Type, values: string[], param: string): unknown {
  const name = typeName(type);
  if (name === 'google.protobuf.FieldMask') return values.join(','); // repeated params extend the mask
  if (values.length > 1) throw new InvalidArgument(`query parameter "${param}" must not be repeated`, { field: param });
  const raw = values[0]!;
  if (name === 'google.protobuf.Timestamp') {
    return isTimestamp(raw) ? raw : invalid(param, 'an RFC 3339 timestamp such as 2024-01-02T03:04:05Z', raw);
  }
  if (name === 'google.protobuf.Duration') return DURATION.test(raw) ? raw : invalid(param, 'a duration such as 1.5s', raw);
  const wrapped = /^google\.protobuf\.[A-Za-z0-9]+Value$/.test(name) ? type.fields.value : undefined;
  if (wrapped && !messageTypeOf(wrapped)) return coerceScalar(wrapped, raw, param);
  throw new InvalidArgument(`query parameter "${param}" is a ${name}, which cannot be set from the query string`, {
    field: param,
  });
}

function coerceLeaf(field: protobuf.Field, values: string[], param: string): unknown {
  if (isMapField(field)) {
    throw new InvalidArgument(`query parameter "${param}" is a map field, which cannot be set from the query string`, {
      field: param,
    });
  }
  const message = messageTypeOf(field);
  if (message && field.repeated) {
    throw new InvalidArgument(`query parameter "${param}" is a repeated message field, which cannot be set from the query string`, { field: param });
  }
  if (message && !isWellKnown(message)) {
    throw new InvalidArgument(`query parameter "${param}" is a message; set its fields instead, e.g. "${param}.<field>"`, {
      field: param,
    });
  }
  if (message) return coerceWellKnown(message, values, param);
  if (field.repeated) return values.map((v) => coerceScalar(field, v, param));
  if (values.length > 1) throw new InvalidArgument(`query parameter "${param}" must not be repeated`, { field: param });
  return coerceScalar(field, values[0]!, param);
}

/**
 * Resolves every query parameter against `type` (dotted paths, snake_case or lowerCamelCase names;
 * spellings of one field are merged). Unknown names are ignored; parameters for which `skip` returns
 * true (fields already bound by path or body) are ignored too. Throws InvalidArgument for bad values
 * and for fields the spec keeps out of query strings (maps, messages, repeated messages).
 */
export function queryAssignments(
  type: protobuf.Type,
  query: URLSearchParams,
  skip: (fields: protobuf.Field[]) => boolean,
): QueryAssignment[] {
  const groups = new Map<string, { param: string; fields: protobuf.Field[]; values: string[] }>();
  for (const [param, value] of query) {
    const walked = resolveFieldPath(type, param);
    if (!walked.ok) {
      if (walked.unknown) continue;
      throw new InvalidArgument(`query parameter "${param}" cannot be used: ${walked.reason}`, { field: param });
    }
    if (skip(walked.fields)) continue;
    const key = walked.fields.map((f) => f.jsonName).join('.');
    const group = groups.get(key);
    if (group) group.values.push(value);
    else groups.set(key, { param, fields: walked.fields, values: [value] });
  }
  return [...groups.values()].map((g) => ({
    param: g.param,
    fields: g.fields,
    value: coerceLeaf(g.fields[g.fields.length - 1]!, g.values, g.param),
  }));
}
