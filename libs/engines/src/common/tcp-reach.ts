import { connect } from 'node:net';
import { parseAddress } from './address';

/** What a plain TCP connect says about an address that the engine's driver could not reach. */
export type ConnectFailure = 'connection refused' | 'host not found' | 'host unreachable';

const FAILURES: Record<string, ConnectFailure> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'host unreachable',
};

/** No server takes connections at the infra's addresses: why, as the operating system says it. */
export class ConnectionFailed extends Error {
  override readonly name = 'ConnectionFailed';
  constructor(
    readonly reason: ConnectFailure,
    addresses: readonly string[],
  ) {
    super(`${reason} (${addresses.join(', ')})`);
  }
}

/** One TCP connect: null when it opens (or says nothing clear within `ms`), else the failure. */
function tryConnect(host: string, port: number, ms: number): Promise<ConnectFailure | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: ConnectFailure | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(null), ms);
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(FAILURES[error.code ?? ''] ?? null),
    );
  });
}

/**
 * Why an infra is unreachable when every address fails the same clear way at the TCP level
 * (refused, unknown host, no route), else null: an open port, a silent one or an address
 * without a port leaves the answer to the driver. Bounded by `ms`.
 */
export async function connectFailure(
  addresses: readonly string[],
  ms: number,
): Promise<ConnectionFailed | null> {
  const parsed = addresses.map((address) => parseAddress(address, 0));
  if (!parsed.length || parsed.some(({ port }) => !(port > 0))) return null;
  const answers = await Promise.all(parsed.map(({ host, port }) => tryConnect(host, port, ms)));
  const [first] = answers;
  return first && answers.every((answer) => answer === first)
    ? new ConnectionFailed(first, addresses)
    : null;
}
