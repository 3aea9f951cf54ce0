import { TransitionTable } from '@dbaas/core';
import { BrokerOperation, BrokerState } from '@dbaas/persistence';

/**
 * The lifecycle of a service instance. A row stores it as its last operation and that
 * operation's state, spelled as the Open Service Broker spec spells them
 * (`provision` + `in progress` is `provisioning`).
 */
export const BROKER_INSTANCE_STATUSES = [
  'provisioning',
  'provisioned',
  'provision failed',
  'deprovisioning',
  'deprovisioned',
  'deprovision failed',
] as const;
export type BrokerInstanceStatus = (typeof BROKER_INSTANCE_STATUSES)[number];

/**
 * The legal moves. A failed provisioning may be retried by the same PUT, or cleaned up by
 * a DELETE (orphan mitigation); a failed deprovisioning may be retried; `deprovisioned` is
 * final (instance ids are not reused). A row is written first in `provisioning`; a refused
 * synchronous provisioning deletes it instead of moving it.
 */
export const BROKER_INSTANCE_TRANSITIONS: TransitionTable<BrokerInstanceStatus> = {
  provisioning: ['provisioned', 'provision failed'],
  provisioned: ['deprovisioning'],
  'provision failed': ['provisioning', 'deprovisioning'],
  deprovisioning: ['deprovisioned', 'deprovision failed'],
  'deprovision failed': ['deprovisioning'],
  deprovisioned: [],
};

/** What an operation cut off by a dead process becomes: the failure of that operation. */
export const INTERRUPTED_BECOMES: Partial<Record<BrokerInstanceStatus, BrokerInstanceStatus>> = {
  provisioning: 'provision failed',
  deprovisioning: 'deprovision failed',
};

/** How each status is stored: the `operation` and `state` columns of broker_instance. */
export const STORED_AS: Readonly<
  Record<BrokerInstanceStatus, { operation: BrokerOperation; state: BrokerState }>
> = {
  provisioning: { operation: 'provision', state: 'in progress' },
  provisioned: { operation: 'provision', state: 'succeeded' },
  'provision failed': { operation: 'provision', state: 'failed' },
  deprovisioning: { operation: 'deprovision', state: 'in progress' },
  deprovisioned: { operation: 'deprovision', state: 'succeeded' },
  'deprovision failed': { operation: 'deprovision', state: 'failed' },
};

/** The status a stored (operation, state) pair stands for. */
export function statusOf(operation: BrokerOperation, state: BrokerState): BrokerInstanceStatus {
  const found = BROKER_INSTANCE_STATUSES.find(
    (status) => STORED_AS[status].operation === operation && STORED_AS[status].state === state,
  );
  if (!found) throw new Error(`broker_instance holds an unknown state: ${operation} ${state}`);
  return found;
}
