import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1. There is a small race between
 * closing the probe and the engine binding it; the harness retries startup once for that.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
