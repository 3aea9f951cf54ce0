/**
 * A database's endpoint (`scheme://<user>:<password>@hosts/path`, as the database shows it)
 * filled with one login: the connection URI a driver takes as it is. The credential detail
 * and the Open Service Broker binding both give this.
 */
export function connectionUri(endpoint: string, username: string, password: string): string {
  return endpoint
    .replace('<user>', encodeURIComponent(username))
    .replace('<password>', encodeURIComponent(password));
}
