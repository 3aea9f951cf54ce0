/**
 * `X-Broker-API-Originating-Identity` (`Platform base64-JSON`) as the task history records
 * it: `platform {decoded JSON}`, or the raw header if it does not decode.
 */
export function describeOrigin(header: string | undefined): string | undefined {
  if (!header?.trim()) return undefined;
  const [platform, value] = header.trim().split(/\s+/, 2);
  if (value) {
    try {
      const decoded: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
      if (decoded && typeof decoded === 'object') return `${platform} ${JSON.stringify(decoded)}`;
    } catch {
      // not base64 JSON: recorded as sent
    }
  }
  return header.trim();
}
