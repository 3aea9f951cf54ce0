/** Splits `host:port` (IPv6 as `[::1]:5432`); the default port applies when none is given. */
export function parseAddress(address: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed)
    return { host: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  const index = address.lastIndexOf(':');
  if (index > 0 && address.indexOf(':') === index) {
    return { host: address.slice(0, index), port: Number(address.slice(index + 1)) };
  }
  return { host: address, port: defaultPort };
}
