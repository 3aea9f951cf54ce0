import { FastifyReply, FastifyRequest } from 'fastify';

/** Nothing may be loaded, framed or submitted: the API serves JSON, not pages. */
const STRICT_CSP =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The Swagger UI page loads its own scripts and styles (same origin) and has inline
 * `<style>` blocks; it calls the API from the page ("Try it out").
 */
const SWAGGER_UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The Swagger UI page and its assets; `/api/docs-json` and `-yaml` are plain documents. */
export function isSwaggerUi(path: string): boolean {
  return path === '/api/docs' || path.startsWith('/api/docs/');
}

/**
 * Headers on every answer. `no-store` because API answers can hold passwords (a
 * credential's detail, create and reset) and should never sit in a shared or browser
 * cache; the Swagger UI's static assets keep their own caching. Fastify sends neither
 * `X-Powered-By` nor `Server`; they are removed anyway in case a plugin adds one.
 */
export function applySecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?', 1)[0];
  const docsUi = isSwaggerUi(path);
  void reply.headers({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy': docsUi ? SWAGGER_UI_CSP : STRICT_CSP,
  });
  if (!docsUi) void reply.header('cache-control', 'no-store');
  void reply.removeHeader('x-powered-by');
  void reply.removeHeader('server');
}
