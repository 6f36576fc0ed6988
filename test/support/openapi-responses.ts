import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

interface MediaType {
  schema?: Record<string, unknown>;
  /** For a problem: one example per `code` the status can carry. */
  examples?: Record<string, unknown>;
}
interface OpenApiLike {
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<
          string,
          { content?: Record<string, MediaType>; headers?: Record<string, DocumentedHeader> }
        >;
      }
    >
  >;
  components: { schemas: Record<string, unknown>; headers?: Record<string, DocumentedHeader> };
}
/** A response header as documented, or a reference to one of `components.headers`. */
interface DocumentedHeader {
  $ref?: string;
  required?: boolean;
}

/** What {@link compileDocument} checks values with: each returns the errors, `[]` when it validates. */
export interface DocumentCheck {
  /** A value against `components.schemas[name]`. */
  schema(name: string, value: unknown): string[];
  /**
   * A real answer against the document: its status must be documented for the route (`default` only
   * for 5xx), its media type too, and its body must validate against that media type's schema; a
   * problem's `code` must be one the document lists (an example of) for that status. With `headers`, each
   * header the document says the answer carries (`required`) must be there.
   */
  response(
    method: string,
    path: string,
    answer: { status: number; contentType: string | null; body: string; headers?: Headers },
  ): string[];
}

const base = 'urn:elicence:openapi';

/**
 * Compiles an OpenAPI 3.1 document's schemas with Ajv (JSON Schema 2020-12, with formats), so that a
 * test can check real answers against it: a body that does not match the document fails the test.
 *
 * @example
 * ```ts
 * const check = compileDocument(await (await fetch(`${baseUrl}/openapi.json`)).json());
 * expect(await answerErrors(check, 'GET', '/licences/{id}', response)).toEqual([]);
 * ```
 */
export function compileDocument(document: unknown): DocumentCheck {
  const doc = document as OpenApiLike;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ $id: base, components: { schemas: doc.components.schemas } });
  const compiled = new Map<string, ValidateFunction>();
  const compile = (schema: Record<string, unknown>): ValidateFunction => {
    const ref = typeof schema.$ref === 'string' ? schema.$ref : undefined;
    const key = ref ?? JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(ref ? { $ref: `${base}${ref}` } : schema);
      compiled.set(key, validate);
    }
    return validate;
  };
  const errorsOf = (validate: ValidateFunction, value: unknown): string[] =>
    validate(value)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}`);

  return {
    schema: (name, value) => errorsOf(compile({ $ref: `#/components/schemas/${name}` }), value),
    response: (method, path, { status, contentType, body, headers }) => {
      const operation = doc.paths[path]?.[method.toLowerCase()];
      if (!operation) return [`${method} ${path} is not in the document`];
      const documented =
        operation.responses[String(status)] ?? (status >= 500 ? operation.responses.default : undefined);
      if (!documented) return [`${method} ${path} answered ${status}, which the document does not list`];
      const missing = Object.entries(documented.headers ?? {})
        .filter(([name, header]) => {
          const resolved = header.$ref
            ? doc.components.headers?.[header.$ref.replace('#/components/headers/', '')]
            : header;
          return resolved?.required === true && headers !== undefined && !headers.has(name);
        })
        .map(([name]) => `${status} came without ${name}, which the document says it carries`);
      if (missing.length > 0) return missing;
      const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
      if (!documented.content)
        return body === '' ? [] : [`${status} has no body in the document, but one came`];
      const media = documented.content[mediaType];
      if (!media)
        return [
          `${status} came as ${mediaType}, the document says ${Object.keys(documented.content).join(', ')}`,
        ];
      if (!media.schema) return [];
      let value: unknown = body;
      if (mediaType.endsWith('json')) {
        try {
          value = JSON.parse(body);
        } catch {
          return ['the body is not JSON'];
        }
      }
      const errors = errorsOf(compile(media.schema), value);
      const code = (value as { code?: unknown } | null)?.code;
      if (mediaType === 'application/problem+json' && media.examples && typeof code === 'string') {
        if (!Object.hasOwn(media.examples, code)) {
          errors.push(`${status} ${code} is not a code the document lists for ${method} ${path}`);
        }
      }
      return errors;
    },
  };
}

/**
 * The errors of a real `fetch` answer against the document ({@link DocumentCheck.response}); reads the
 * body of a clone, so the caller can still read it.
 */
export async function answerErrors(
  check: DocumentCheck,
  method: string,
  path: string,
  response: Response,
): Promise<string[]> {
  const contentType = response.headers.get('content-type');
  const body = contentType?.startsWith('image/png') ? '' : await response.clone().text();
  if (contentType?.startsWith('image/png')) {
    return check.response(method, path, {
      status: response.status,
      contentType,
      body: 'png',
      headers: response.headers,
    });
  }
  return check.response(method, path, {
    status: response.status,
    contentType,
    body,
    headers: response.headers,
  });
}
