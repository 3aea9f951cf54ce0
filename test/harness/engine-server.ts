/** A throwaway engine server started by the harness, reachable over TCP with a password. */
export interface EngineServer {
  host: string;
  port: number;
  /** `host:port`, as an infra address. */
  address: string;
  adminUser: string;
  adminPassword: string;
  /** Admin connection URL (tests only: it contains the password). */
  url: string;
  /** The server's own log, where the harness knows it (PostgreSQL). */
  logFile?: string;
  /** Stops the server, keeping its data folder and port ("engine down"). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data folder. */
  start(): Promise<void>;
  /** Stops it and removes its folder. Safe to call twice. */
  destroy(): Promise<void>;
}

/** An engine server as an infra target (what an infra row gives a provider). */
export const targetOf = (server: EngineServer, id = server.port) => ({
  id,
  addresses: [server.address],
  adminUser: server.adminUser,
  adminPassword: server.adminPassword,
});
