import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import Redis from 'ioredis';
import { startMariaDb, startPostgres, startRedis } from './index';

/** The harness itself: real password logins over TCP, and stop/start on the same port. */
describe('engine test harness', () => {
  it('PostgreSQL: password login, wrong password refused, restart on the same port', async () => {
    const server = await startPostgres();
    try {
      const login = (password: string) =>
        new Client({
          host: server.host,
          port: server.port,
          user: server.adminUser,
          password,
          database: 'postgres',
        });
      const ok = login(server.adminPassword);
      await ok.connect();
      await ok.end();
      await expect(login('wrong').connect()).rejects.toThrow(/password authentication failed/);
      await server.stop();
      await expect(login(server.adminPassword).connect()).rejects.toThrow();
      await server.start();
      const again = login(server.adminPassword);
      await again.connect();
      await again.end();
    } finally {
      await server.destroy();
    }
  });

  it('MariaDB: admin logs in over TCP with its password only', async () => {
    const server = await startMariaDb();
    try {
      const login = (user: string, password?: string) =>
        createConnection({ host: server.host, port: server.port, user, password });
      const conn = await login(server.adminUser, server.adminPassword);
      await conn.end();
      await expect(login(server.adminUser, 'wrong')).rejects.toThrow(/Access denied/);
      await expect(login('root')).rejects.toThrow(/Access denied/);
      await server.stop();
      await server.start();
      await (await login(server.adminUser, server.adminPassword)).end();
    } finally {
      await server.destroy();
    }
  });

  it('Redis: default user off, admin logs in with its password', async () => {
    const server = await startRedis();
    const connect = async (username: string | undefined, password: string | undefined) => {
      const client = new Redis({
        host: server.host,
        port: server.port,
        username,
        password,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return await client.ping();
      } finally {
        client.disconnect();
      }
    };
    try {
      await expect(connect(server.adminUser, server.adminPassword)).resolves.toBe('PONG');
      await expect(connect(server.adminUser, 'wrong')).rejects.toThrow();
      await expect(connect(undefined, undefined)).rejects.toThrow();
    } finally {
      await server.destroy();
    }
  });
});
