import { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { RequestRefusedError } from './request-refused';

/** Names that reach a server listening on loopback: localhost, 127.x.x.x, [::1]. */
const LOOPBACK_NAME = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/;

export interface HostPolicy {
  /** HOST: the address the API listens on. */
  host: string;
  /** DBAAS_PUBLIC_URL: its host is accepted too (a proxy on the same machine). */
  publicUrl?: string;
}

const listensOnLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);

/**
 * DNS rebinding: a page of evil.example whose name is made to resolve to 127.0.0.1 talks to
 * an API listening there as a same-origin page (its Origin and Host agree), so the origin
 * check passes, and it can send the sample login (admin/123456) itself. An API that listens
 * on loopback only is reached by loopback names, so any other `Host` is refused (403),
 * except the host of DBAAS_PUBLIC_URL. An API listening on other addresses is not affected.
 */
export function hostGuard(policy: HostPolicy) {
  const loopbackOnly = listensOnLoopback(policy.host);
  const publicHost = policy.publicUrl ? new URL(policy.publicUrl).host : undefined;
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (!loopbackOnly) return done();
    const host = (request.headers.host ?? '').toLowerCase();
    if (LOOPBACK_NAME.test(host) || host === publicHost) return done();
    done(
      new RequestRefusedError(
        403,
        'host-not-allowed',
        'This API listens on a loopback address and answers to loopback names only (localhost, 127.0.0.1); set DBAAS_PUBLIC_URL to reach it under another name.',
      ),
    );
  };
}
