import { BrokerOperation } from '@dbaas/persistence';
import { createHash, randomBytes } from 'node:crypto';

/** `osb_` and 32 hex digits: the instance id itself when it is a UUID, else its SHA-256. */
export function defaultDatabaseName(instanceId: string): string {
  const hex = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(instanceId)
    ? instanceId.replace(/-/g, '').toLowerCase()
    : createHash('sha256').update(instanceId).digest('hex').slice(0, 32);
  return `osb_${hex}`;
}

/** `b_` and 24 hex digits of the binding id's SHA-256: fits every engine's user-name limit. */
export function bindingUserName(bindingId: string): string {
  return `b_${createHash('sha256').update(bindingId).digest('hex').slice(0, 24)}`;
}

/** The `operation` token given to the platform with a 202. */
export function newOperationId(operation: BrokerOperation): string {
  return `${operation}-${randomBytes(8).toString('hex')}`;
}

/** JSON with sorted keys, to compare parameters regardless of key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
