import { ConnectionDetails, Login } from '@dbaas/engines';

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
 * A login on a database as a binding: the engine's connection details (its provider's
 * `connectionDetails`) in the fields applications look for. For Redis the database is
 * the key prefix name (the URI's path is the Redis logical database 0).
 */
export function bindingCredentials(
  details: ConnectionDetails,
  databaseName: string,
  login: Login,
): BindingAnswer {
  const credentials: BindingCredentials = {
    uri: details.uri,
    username: login.username,
    password: login.password,
    host: details.host,
    port: details.port,
    database: databaseName,
    hosts: details.hosts,
    ...(details.jdbcUrl ? { jdbcUrl: details.jdbcUrl } : {}),
    ...details.extras,
  };
  return {
    credentials,
    endpoints: details.addresses.map(({ host, port }) => ({
      host,
      ports: [String(port)],
      protocol: 'tcp',
    })),
  };
}
