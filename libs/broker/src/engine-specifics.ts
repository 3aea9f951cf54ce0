/*
 * ENGINE-SPECIFIC: everything the broker knows about particular engines, in one place.
 * Default ports, JDBC URLs, the Redis key prefix, the parsing of an endpoint's hosts and
 * the catalog's display names and tags. Once EngineProvider offers them (default port,
 * display name and tags, connection details for bindings), these functions call the
 * provider instead and the tables below go.
 */

/** How the catalog shows an engine type. */
export interface EngineDisplay {
  name: string;
  tags: string[];
}

const DISPLAY: Record<string, EngineDisplay> = {
  postgresql: { name: 'PostgreSQL', tags: ['postgresql', 'relational', 'sql'] },
  mysql: { name: 'MySQL/MariaDB', tags: ['mysql', 'mariadb', 'relational', 'sql'] },
  mongodb: { name: 'MongoDB', tags: ['mongodb', 'document', 'nosql'] },
  redis: { name: 'Redis', tags: ['redis', 'key-value', 'caching'] },
};

export function engineDisplay(engineType: string): EngineDisplay {
  return DISPLAY[engineType] ?? { name: engineType, tags: [engineType] };
}

const DEFAULT_PORTS: Record<string, number> = {
  postgresql: 5432,
  mysql: 3306,
  mongodb: 27017,
  redis: 6379,
};

const JDBC: Record<string, string> = { postgresql: 'postgresql', mysql: 'mysql' };

/** What a binding tells an application about one login on one database. */
export interface ConnectionDetails {
  uri: string;
  host: string;
  port: number;
  /** Every `host:port` of the server (MongoDB replica sets have several). */
  hosts: string[];
  /** Each host with its port, as the binding's `endpoints` list them. */
  addresses: { host: string; port: number }[];
  jdbcUrl?: string;
  /** Redis: the key prefix every key of this database must start with. */
  keyPrefix?: string;
}

/** `host:port`, `[v6]:port` or `host` (default port) into its parts. */
function hostPort(address: string, defaultPort: number): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : defaultPort };
  const at = address.lastIndexOf(':');
  if (at < 0) return { host: address, port: defaultPort };
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

/**
 * Fills a database's endpoint (`scheme://<user>:<password>@hosts/path`) with a login and
 * derives the usual fields. For Redis the database is the key prefix name (the endpoint's
 * path is the Redis logical database 0).
 */
export function connectionDetails(
  engineType: string,
  endpoint: string,
  databaseName: string,
  username: string,
  password: string,
): ConnectionDetails {
  // The same filling as the API's connection URI of a credential (apps/api/src/credentials).
  const uri = endpoint
    .replace('<user>', encodeURIComponent(username))
    .replace('<password>', encodeURIComponent(password));
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^@]*@([^/?]+)/i.exec(endpoint);
  const hosts = match ? match[1].split(',') : [];
  const addresses = hosts.map((address) => hostPort(address, DEFAULT_PORTS[engineType] ?? 0));
  const first = addresses[0] ?? { host: '', port: 0 };
  const details: ConnectionDetails = { uri, host: first.host, port: first.port, hosts, addresses };
  const jdbc = JDBC[engineType];
  if (jdbc) {
    const host = first.host.includes(':') ? `[${first.host}]` : first.host;
    details.jdbcUrl = `jdbc:${jdbc}://${host}:${first.port}/${databaseName}?user=${encodeURIComponent(username)}&password=${encodeURIComponent(password)}`;
  }
  if (engineType === 'redis') details.keyPrefix = `${databaseName}:`;
  return details;
}
