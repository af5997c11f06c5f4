// Clients and http rules name fields by proto name or JSON name; resolve both the same way everywhere.
import protobuf from 'protobufjs';

const byName = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

/** Finds a field of `type` by its proto name (snake_case), JSON name (lowerCamelCase) or loader name. */
export function findField(type: protobuf.Type, name: string): protobuf.Field | undefined {
  let index = byName.get(type);
  if (!index) {
    index = new Map();
    const fields = type.fieldsArray;
    for (const f of fields) f.resolve();
    for (const key of ['protoName', 'jsonName', 'name'] as const) {
      for (const f of fields) if (!index.has(f[key])) index.set(f[key], f);
    }
    byName.set(type, index);
  }
  return index.get(name);
}

export function messageTypeOf(field: protobuf.Field): protobuf.Type | undefined {
  return field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
}

export function enumTypeOf(field: protobuf.Field): protobuf.Enum | undefined {
  return field.resolvedType instanceof protobuf.Enum ? field.resolvedType : undefined;
}

export function isMapField(field: protobuf.Field): boolean {
  return field.map === true;
}

/** Fully qualified name without the leading dot, e.g. `google.protobuf.Timestamp`. */
export function typeName(type: protobuf.ReflectionObject): string {
  return type.fullName.replace(/^\./, '');
}

/** True for google.protobuf.* messages, whose JSON form is special (string, primitive, any value). */
export function isWellKnown(type: protobuf.Type): boolean {
  return typeName(type).startsWith('google.protobuf.');
}

export type FieldPathResult =
  | { ok: true; fields: protobuf.Field[] }
  | { ok: false; unknown: boolean; reason: string };

/**
 * Walks a dotted field path (`spider.name`). Every step but the last must be a singular,
 * non-well-known message. `unknown` is true when some name simply does not exist.
 */
export function resolveFieldPath(root: protobuf.Type, fieldPath: string): FieldPathResult {
  const names = fieldPath.split('.');
  const fields: protobuf.Field[] = [];
  let type = root;
  for (let i = 0; i < names.length; i++) {
    const field = findField(type, names[i]!);
    if (!field) return { ok: false, unknown: true, reason: `${typeName(type)} has no field "${names[i]}"` };
    fields.push(field);
    if (i === names.length - 1) break;
    const prefix = names.slice(0, i + 1).join('.');
    const next = messageTypeOf(field);
    if (isMapField(field)) return { ok: false, unknown: false, reason: `"${prefix}" is a map field` };
    if (field.repeated) return { ok: false, unknown: false, reason: `"${prefix}" is a repeated field` };
    if (!next) return { ok: false, unknown: false, reason: `"${prefix}" is not a message field` };
    if (isWellKnown(next)) {
      return { ok: false, unknown: false, reason: `"${prefix}" is a ${typeName(next)}; set it as a whole` };
    }
    type = next;
  }
  return { ok: true, fields };
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets an own enumerable property, safe even for keys such as `__proto__`. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function getOwn(target: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(target, key) ? target[key] : undefined;
}
