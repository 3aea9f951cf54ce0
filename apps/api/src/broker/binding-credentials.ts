import { connectionUri } from '../credentials/connection-uri';

/** The `credentials` hash of a binding, as applications and buildpacks expect it. */
export interface BindingCredentials {
  uri: string;
  username: string;
  password: string;
  host: string;
  port: number;
  database: string;
  jdbcUrl?: string;
  /** Redis: the key prefix every key of this database must start with. */
  key_prefix?: string;
  /** Every `host:port` of the server (MongoDB replica sets have several). */
  hosts: string[];
}

export interface BindingEndpoint {
  host: string;
  ports: string[];
  protocol: 'tcp';
}

const JDBC: Record<string, string> = { postgresql: 'postgresql', mysql: 'mysql' };

/** `host:port`, `[v6]:port` or `host` (default port) into its parts. */
function hostPort(address: string, defaultPort: number): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : defaultPort };
  const at = address.lastIndexOf(':');
  if (at < 0) return { host: address, port: defaultPort };
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

const DEFAULT_PORTS: Record<string, number> = {
  postgresql: 5432,
  mysql: 3306,
  mongodb: 27017,
  redis: 6379,
};

/**
 * Fills a database's endpoint (`scheme://<user>:<password>@hosts/path`) with a login and
 * derives the usual fields. For Redis the database is the key prefix name (the endpoint's
 * path is the Redis logical database 0).
 */
export function bindingCredentials(
  engineType: string,
  endpoint: string,
  databaseName: string,
  username: string,
  password: string,
): { credentials: BindingCredentials; endpoints: BindingEndpoint[] } {
  const uri = connectionUri(endpoint, username, password);
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^@]*@([^/?]+)/i.exec(endpoint);
  const addresses = match ? match[1].split(',') : [];
  const parsed = addresses.map((address) => hostPort(address, DEFAULT_PORTS[engineType] ?? 0));
  const first = parsed[0] ?? { host: '', port: 0 };
  const credentials: BindingCredentials = {
    uri,
    username,
    password,
    host: first.host,
    port: first.port,
    database: databaseName,
    hosts: addresses,
  };
  const jdbc = JDBC[engineType];
  if (jdbc) {
    const host = first.host.includes(':') ? `[${first.host}]` : first.host;
    credentials.jdbcUrl = `jdbc:${jdbc}://${host}:${first.port}/${databaseName}?user=${encodeURIComponent(username)}&password=${encodeURIComponent(password)}`;
  }
  if (engineType === 'redis') credentials.key_prefix = `${databaseName}:`;
  return {
    credentials,
    endpoints: parsed.map(({ host, port }) => ({ host, ports: [String(port)], protocol: 'tcp' })),
  };
}
