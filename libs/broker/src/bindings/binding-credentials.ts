import { connectionDetails } from '../engine-specifics';

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

/** What a binding gives the application: its credentials and the server's endpoints. */
export interface BindingAnswer {
  credentials: BindingCredentials;
  endpoints: BindingEndpoint[];
}

/**
 * A login on a database as a binding: its database's endpoint filled with the login, and
 * the fields applications look for (host, port, jdbcUrl, key_prefix...).
 */
export function bindingCredentials(
  engineType: string,
  endpoint: string,
  databaseName: string,
  username: string,
  password: string,
): BindingAnswer {
  const details = connectionDetails(engineType, endpoint, databaseName, username, password);
  const credentials: BindingCredentials = {
    uri: details.uri,
    username,
    password,
    host: details.host,
    port: details.port,
    database: databaseName,
    hosts: details.hosts,
  };
  if (details.jdbcUrl) credentials.jdbcUrl = details.jdbcUrl;
  if (details.keyPrefix) credentials.key_prefix = details.keyPrefix;
  return {
    credentials,
    endpoints: details.addresses.map(({ host, port }) => ({
      host,
      ports: [String(port)],
      protocol: 'tcp',
    })),
  };
}
