/** A JSON value checked against an OpenAPI 3.0 schema of the document it comes from. */
export type OpenApiDocument = {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any>; securitySchemes?: Record<string, any> };
  [key: string]: any;
};

export function resolveRef(doc: OpenApiDocument, schema: any): any {
  let current = schema;
  while (current?.$ref) {
    const name = String(current.$ref).replace('#/components/schemas/', '');
    current = doc.components.schemas[name];
    if (!current) throw new Error(`unresolved ${schema.$ref}`);
  }
  return current;
}

/**
 * The differences between a real answer and its documented schema, as `path: problem`
 * lines: missing required fields, fields the document does not mention, wrong types.
 * Small on purpose: it covers what @nestjs/swagger emits (objects, arrays, scalars,
 * nullable, enum, allOf of one $ref, additionalProperties).
 */
export function schemaMismatches(
  doc: OpenApiDocument,
  schema: any,
  value: unknown,
  at = '$',
): string[] {
  const s = resolveRef(doc, schema);
  if (s.allOf) {
    return s.allOf.flatMap((part: any) => schemaMismatches(doc, part, value, at));
  }
  if (value === null) return s.nullable ? [] : [`${at}: null but not nullable`];
  if (s.enum && !s.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in enum`];
  const type = s.type ?? (s.properties ? 'object' : undefined);
  switch (type) {
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: expected string`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected boolean`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: expected number`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: expected integer`];
    case 'array':
      return Array.isArray(value)
        ? value.flatMap((item, i) => schemaMismatches(doc, s.items, item, `${at}[${i}]`))
        : [`${at}: expected array`];
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected object`];
      const record = value as Record<string, unknown>;
      const properties: Record<string, any> = s.properties ?? {};
      const problems = (s.required ?? [])
        .filter((key: string) => !(key in record))
        .map((key: string) => `${at}.${key}: required but missing`);
      for (const [key, item] of Object.entries(record)) {
        if (properties[key])
          problems.push(...schemaMismatches(doc, properties[key], item, `${at}.${key}`));
        else if (s.additionalProperties)
          problems.push(...schemaMismatches(doc, s.additionalProperties, item, `${at}.${key}`));
        else problems.push(`${at}.${key}: not in the document`);
      }
      return problems;
    }
    default:
      return [`${at}: schema has no type (${JSON.stringify(s).slice(0, 80)})`];
  }
}
