import { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { toBrokerError } from '../broker/broker-errors';
import { isBrokerPath, PROBLEM_CONTENT_TYPE } from './problem-details.filter';
import { toProblem } from './problem';
import { RequestRefusedError } from './request-refused';

const REFUSALS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'request-header-fields-too-large',
    'The request headers are larger than the server accepts.',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request-timeout', 'The request did not arrive in time.'],
};
const NOT_HTTP: [number, string, string] = [
  400,
  'invalid-request',
  'The request is not valid HTTP.',
];

/**
 * Node's HTTP parser refuses a request before Fastify sees it (headers over the size limit,
 * bytes that are not HTTP, too slow): the answer is written on the socket directly, as a
 * problem (or a broker error when the request line names /v2, as far as it arrived),
 * replacing Fastify's own `{"error", "message", "statusCode"}` body. The connection ends.
 */
export function answerClientError(
  error: Error & { code?: string; rawPacket?: unknown },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, slug, detail] = REFUSALS[error.code ?? ''] ?? NOT_HTTP;
  const refused = new RequestRefusedError(status, slug, detail);
  // At run time rawPacket is the Buffer the parser choked on (typed otherwise by Fastify).
  const packet = Buffer.isBuffer(error.rawPacket)
    ? error.rawPacket.toString('latin1', 0, 2048)
    : '';
  const path = /^[A-Z]+ (\S+)/.exec(packet)?.[1] ?? '';
  let type: string;
  let body: string;
  if (isBrokerPath(path)) {
    type = 'application/json';
    body = JSON.stringify(toBrokerError(refused).body());
  } else {
    type = PROBLEM_CONTENT_TYPE;
    // The problem's headers (none for these statuses) are not part of its body.
    body = JSON.stringify({ ...toProblem(refused), headers: undefined });
  }
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
