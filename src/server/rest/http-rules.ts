// REST routes come from the protos' google.api.http annotations, checked at start-up so bad rules fail fast.
import protobuf from 'protobufjs';
import { findField, isMapField, messageTypeOf, resolveFieldPath, typeName } from './field-lookup.js';
import { compileTemplate, type PathTemplate } from './path-template.js';

export interface HttpRoute {
  /** Upper-case HTTP method; `*` for a custom rule that accepts any method. */
  httpMethod: string;
  template: PathTemplate;
  pattern: string;
  /** '' (no body), '*' (whole request) or a top-level request field name. */
  body: string;
  /** '' (whole response) or a top-level response field name. */
  responseBody: string;
  /** Fully qualified, e.g. scrapydd.v1.ProjectService. */
  serviceName: string;
  /** e.g. ListProjects. */
  methodName: string;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
  requestStream: boolean;
  responseStream: boolean;
}

/** One binding of an HttpRule, before the template is compiled. */
export interface HttpBinding {
  httpMethod: string;
  pattern: string;
  body: string;
  responseBody: string;
}

const OPTION = '(google.api.http)';
const VERBS = ['get', 'put', 'post', 'delete', 'patch'] as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Rebuilds `{ get: ..., custom: { kind } }` from protobufjs's flattened `(google.api.http).custom.kind` keys. */
function unflatten(options: Json): Json | undefined {
  let rule: Json | undefined;
  for (const [key, value] of Object.entries(options)) {
    if (!key.startsWith(`${OPTION}.`)) continue;
    rule ??= {};
    const names = key.slice(OPTION.length + 1).split('.');
    let node = rule;
    for (const name of names.slice(0, -1)) node = isObject(node[name]) ? (node[name] as Json) : (node[name] = {});
    node[names[names.length - 1]!] = value;
  }
  return rule;
}

/** The raw google.api.http rule of a method, or undefined when it has none. */
function rawRule(method: protobuf.Method): Json | undefined {
  let rule: Json | undefined;
  for (const entry of method.parsedOptions ?? []) {
    const value = isObject(entry) ? entry[OPTION] : undefined;
    if (isObject(value)) rule = { ...rule, ...value };
  }
  if (rule || !method.options) return rule;
  const direct = method.options[OPTION];
  return isObject(direct) ? direct : unflatten(method.options);
}

function toBinding(rule: Json, where: string): HttpBinding {
  const found: HttpBinding[] = [];
  const body = str(rule.body);
  const responseBody = str(rule.response_body ?? rule.responseBody);
  for (const verb of VERBS) {
    if (str(rule[verb]) !== '') found.push({ httpMethod: verb.toUpperCase(), pattern: str(rule[verb]), body, responseBody });
  }
  if (isObject(rule.custom)) {
    const kind = str(rule.custom.kind).toUpperCase();
    if (kind === '') throw new Error(`${where}: custom http pattern needs a kind`);
    found.push({ httpMethod: kind, pattern: str(rule.custom.path), body, responseBody });
  }
  if (found.length !== 1) {
    throw new Error(`${where}: an http rule must set exactly one of get|put|post|delete|patch|custom`);
  }
  return found[0]!;
}

/** All bindings of a method's google.api.http option: the main one, then additional_bindings in order. */
export function readHttpBindings(method: protobuf.Method, where = method.name): HttpBinding[] {
  const rule = rawRule(method);
  if (!rule) return [];
  const extra = rule.additional_bindings ?? rule.additionalBindings;
  const extras = extra === undefined ? [] : Array.isArray(extra) ? extra : [extra];
  const bindings = [toBinding(rule, where)];
  for (const [i, binding] of extras.entries()) {
    const at = `${where} additional_bindings[${i}]`;
    if (!isObject(binding)) throw new Error(`${at}: expected an HttpRule`);
    if ((binding.additional_bindings ?? binding.additionalBindings) !== undefined) {
      throw new Error(`${at}: additional_bindings may only be nested one level deep`);
    }
    bindings.push(toBinding(binding, at));
  }
  return bindings;
}

/** Checks what the spec demands of path variables, body and response_body against the message types. */
function checkBinding(route: HttpRoute, where: string): void {
  for (const v of route.template.variables) {
    const walked = resolveFieldPath(route.requestType, v.fieldPath);
    if (!walked.ok) throw new Error(`${where}: path variable {${v.fieldPath}}: ${walked.reason}`);
    const leaf = walked.fields[walked.fields.length - 1]!;
    if (leaf.repeated || isMapField(leaf) || messageTypeOf(leaf)) {
      throw new Error(`${where}: path variable {${v.fieldPath}} must be a singular primitive field`);
    }
  }
  if (route.body !== '' && route.body !== '*' && !findField(route.requestType, route.body)) {
    throw new Error(`${where}: body "${route.body}" is not a field of ${typeName(route.requestType)}`);
  }
  if (route.responseBody !== '' && !findField(route.responseType, route.responseBody)) {
    throw new Error(`${where}: response_body "${route.responseBody}" is not a field of ${typeName(route.responseType)}`);
  }
}

function routesOf(service: protobuf.Service): HttpRoute[] {
  const serviceName = typeName(service);
  const routes: HttpRoute[] = [];
  for (const method of service.methodsArray) {
    const where = `${serviceName}.${method.name}`;
    const bindings = readHttpBindings(method, where);
    if (bindings.length === 0) continue; // no rule: gRPC only (this also drops un-annotated streaming methods)
    method.resolve();
    const requestType = method.resolvedRequestType;
    const responseType = method.resolvedResponseType;
    if (!requestType || !responseType) throw new Error(`${where}: request/response types are not resolved`);
    for (const b of bindings) {
      let template: PathTemplate;
      try {
        template = compileTemplate(b.pattern);
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
      }
      const route: HttpRoute = {
        ...b,
        template,
        serviceName,
        methodName: method.name,
        requestType,
        responseType,
        requestStream: method.requestStream === true,
        responseStream: method.responseStream === true,
      };
      checkBinding(route, `${where} (${b.httpMethod} ${b.pattern})`);
      routes.push(route);
    }
  }
  return routes;
}

/** Every http-annotated method of every service in `root`, in declaration order. Throws on bad rules. */
export function collectRoutes(root: protobuf.Root): HttpRoute[] {
  root.resolveAll();
  const routes: HttpRoute[] = [];
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Service) routes.push(...routesOf(child));
      if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) visit(child);
    }
  };
  visit(root);
  return routes;
}
