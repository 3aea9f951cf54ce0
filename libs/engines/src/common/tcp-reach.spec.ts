import { AddressInfo, createServer, Server } from 'node:net';
import { connectFailure, ConnectionFailed } from './tcp-reach';

/** Loopback only: a listening port, and a port that was just closed (refused). */
describe('connectFailure', () => {
  let server: Server;
  let open: number;
  let closed: number;

  beforeAll(async () => {
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    closed = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('names the failure when every address refuses', async () => {
    const failure = await connectFailure([`127.0.0.1:${closed}`, `127.0.0.1:${closed}`], 2000);
    expect(failure).toBeInstanceOf(ConnectionFailed);
    expect(failure!.name).toBe('ConnectionFailed'); // what a log line shows of it
    expect(failure!.reason).toBe('connection refused');
    expect(failure!.message).toBe(`connection refused (127.0.0.1:${closed}, 127.0.0.1:${closed})`);
  });

  it('leaves the answer to the driver when one address takes connections', async () => {
    expect(await connectFailure([`127.0.0.1:${open}`], 2000)).toBeNull();
    expect(await connectFailure([`127.0.0.1:${closed}`, `127.0.0.1:${open}`], 2000)).toBeNull();
    expect(await connectFailure([`127.0.0.1:${open}`, `127.0.0.1:${closed}`], 2000)).toBeNull();
  });

  it('says nothing without addresses or without a port', async () => {
    expect(await connectFailure([], 2000)).toBeNull();
    expect(await connectFailure(['127.0.0.1', `127.0.0.1:${closed}`], 2000)).toBeNull();
    expect(await connectFailure([`127.0.0.1:${closed}`, '127.0.0.1:0'], 2000)).toBeNull();
  });
});
