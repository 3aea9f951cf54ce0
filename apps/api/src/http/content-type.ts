import { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth';
import { RequestRefusedError } from './request-refused';

type Done = (error: Error | null, body?: unknown) => void;

const utf8 = new TextDecoder('utf-8', { fatal: true });

const notJson = () =>
  new RequestRefusedError(
    415,
    'unsupported-media-type',
    'Send the body as application/json (UTF-8).',
  );

/** The `charset` parameter of a content type, lower-cased, if any. */
function charsetOf(contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
}

/**
 * The bodies the API reads: JSON only. A browser form (urlencoded, multipart) or a
 * text/plain body is what a cross-site page can make a browser send without asking the
 * API first, so those are refused with 415, unless they are empty: `curl -d ''` sends a
 * form content type with no body, and a POST without a body is fine whatever it says.
 * A JSON body must be UTF-8 and at most MAX_JSON_DEPTH levels deep (checked before it is
 * parsed); an empty one is no body, as Django REST framework reads it.
 */
export function installBodyParsers(fastify: FastifyInstance, bodyLimit: number): void {
  // Fastify's own text/plain and JSON parsers go; Nest's are not registered (bodyParser: false).
  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit },
    (request: FastifyRequest, body: Buffer, done: Done) => {
      if (body.length === 0) return done(null, undefined);
      const charset = charsetOf(request.headers['content-type']);
      if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
        return done(notJson());
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        return done(
          new RequestRefusedError(400, 'invalid-request', 'The body is not valid UTF-8.'),
        );
      }
      if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
        return done(
          new RequestRefusedError(
            400,
            'invalid-request',
            `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`,
          ),
        );
      }
      void parseJson(request, text, (error: Error | null, value?: unknown) =>
        error
          ? done(new RequestRefusedError(400, 'invalid-request', 'The body is not valid JSON.'))
          : done(null, value),
      );
    },
  );
  // Every other content type: no body is fine, a body is refused unread.
  fastify.addContentTypeParser('*', (request: FastifyRequest, _payload: unknown, done: Done) => {
    const length = request.headers['content-length'];
    const noBody =
      length === '0' ||
      (length === undefined && request.headers['transfer-encoding'] === undefined);
    if (noBody || request.is404) return done(null, undefined);
    done(notJson());
  });
}
