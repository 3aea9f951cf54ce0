import { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { RequestRefusedError } from './request-refused';

/** Methods that change nothing: a cross-site page may send them, it cannot read the answer. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface OriginPolicy {
  /** DBAAS_PUBLIC_URL: its origin is the API's own. */
  publicUrl?: string;
  /** DBAAS_ALLOWED_ORIGINS. */
  allowedOrigins: string[];
}

/**
 * Cross-site request forgery: a browser that has the API's Basic login cached sends it with
 * any request another site's page makes. Writes (every method but GET, HEAD, OPTIONS) are
 * refused with 403 when the browser says they come from another site (`Sec-Fetch-Site:
 * cross-site`) or names an `Origin` that is not the API's own (its public URL, or the
 * scheme and host the request came to), unless that origin is listed in
 * DBAAS_ALLOWED_ORIGINS. Clients other than browsers (curl, the CLI, platforms) send
 * neither header and are not affected. Runs on `onRequest`, before any body is read.
 */
export function originGuard(policy: OriginPolicy) {
  const trusted = new Set(policy.allowedOrigins);
  if (policy.publicUrl) trusted.add(new URL(policy.publicUrl).origin);
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (SAFE_METHODS.has(request.method)) return done();
    const origin = request.headers.origin?.toLowerCase();
    if (origin !== undefined && trusted.has(origin)) return done();
    const crossSite = request.headers['sec-fetch-site'] === 'cross-site';
    const foreign =
      origin !== undefined && origin !== `${request.protocol}://${request.host}`.toLowerCase();
    if (crossSite || foreign) {
      return done(
        new RequestRefusedError(
          403,
          'cross-origin',
          'Writes from another site’s web page are refused; list its origin in DBAAS_ALLOWED_ORIGINS to allow it.',
        ),
      );
    }
    done();
  };
}
