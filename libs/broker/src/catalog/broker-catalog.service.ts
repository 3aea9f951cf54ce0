import { OfferedPlan, PlansService } from '@dbaas/catalog';
import { APP_CONFIG, AppConfig } from '@dbaas/core';
import { EngineRegistry } from '@dbaas/engines';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, createHmac } from 'node:crypto';
import {
  BINDING_PARAMETERS_SCHEMA,
  INSTANCE_PARAMETERS_SCHEMA,
  INSTANCE_UPDATE_PARAMETERS_SCHEMA,
} from './parameter-schemas';

/** A name-based (version 5) UUID, RFC 9562: SHA-1 of namespace and name. */
export function uuidV5(namespace: Buffer, name: string): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A catalog plan: one dbaas plan offered in one environment. */
export interface BrokerOffer {
  serviceId: string;
  serviceName: string;
  planId: string;
  planName: string;
  engineType: string;
  plan: OfferedPlan;
  environment: { id: number; name: string };
}

const QUARANTINE_NOTE =
  'Deprovisioning puts the database in quarantine (credentials disabled, no data dropped); a dba can restore it.';

/** CLI-friendly (letters, digits, periods, hyphens), as the spec recommends. */
const cliFriendly = (name: string) =>
  name.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'plan';

function sizeText(bytes: number): string {
  if (!bytes) return 'no size limit';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `up to ${Number(value.toFixed(1))} ${units[unit]}`;
}

/**
 * The broker catalog, read from the dbaas catalog: one service offering per engine type,
 * one plan per (active plan, environment it is offered in). Ids are name-based UUIDs in
 * a namespace derived from the installation's secret key: stable across restarts and
 * renames (they hash the ids of engine type, plan and environment), and different between
 * two dbaas installations registered with the same platform.
 */
@Injectable()
export class BrokerCatalog {
  private readonly namespace: Buffer;

  constructor(
    private readonly plans: PlansService,
    private readonly engines: EngineRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.namespace = createHmac('sha256', config.secretKey)
      .update('dbaas open service broker catalog v1')
      .digest()
      .subarray(0, 16);
  }

  serviceId(engineTypeId: number): string {
    return uuidV5(this.namespace, `service:engine_type:${engineTypeId}`);
  }

  planId(planId: number, environmentId: number): string {
    return uuidV5(this.namespace, `plan:${planId}:environment:${environmentId}`);
  }

  /** Every plan on offer now, grouped by engine type in id order. */
  async offers(): Promise<BrokerOffer[]> {
    const offers: BrokerOffer[] = [];
    for (const plan of await this.plans.listOffered()) {
      const type = plan.engineType;
      for (const environment of [...plan.environments].sort((a, b) => a.id - b.id)) {
        offers.push({
          serviceId: this.serviceId(type.id),
          serviceName: cliFriendly(`dbaas-${type.name}`),
          planId: this.planId(plan.id, environment.id),
          planName: cliFriendly(`${plan.name}-${environment.name}`),
          engineType: type.name,
          plan,
          environment: { id: environment.id, name: environment.name },
        });
      }
    }
    return offers.sort((a, b) => a.plan.engineType.id - b.plan.engineType.id);
  }

  /** How the catalog names an engine type: its provider's display name and tags. */
  private display(engineType: string): { name: string; tags: string[] } {
    const provider = this.engines.find(engineType);
    if (!provider) return { name: engineType, tags: [engineType] };
    return { name: provider.displayName, tags: [...provider.catalogTags] };
  }

  /** The offer a (service_id, plan_id) pair names, or undefined. */
  async resolve(serviceId: string, planId: string): Promise<BrokerOffer | undefined> {
    return (await this.offers()).find(
      (offer) => offer.serviceId === serviceId && offer.planId === planId,
    );
  }

  /** The catalog plan of a dbaas plan in an environment, for a service. */
  async offerOf(
    serviceId: string,
    planId: number,
    environmentId: number,
  ): Promise<BrokerOffer | undefined> {
    return (await this.offers()).find(
      (offer) =>
        offer.serviceId === serviceId &&
        offer.plan.id === planId &&
        offer.environment.id === environmentId,
    );
  }

  /** GET /v2/catalog. */
  async catalog(): Promise<{ services: object[] }> {
    const byService = new Map<string, BrokerOffer[]>();
    for (const offer of await this.offers())
      byService.set(offer.serviceId, [...(byService.get(offer.serviceId) ?? []), offer]);
    const services = [...byService.values()].map((offers) => {
      const type = offers[0].engineType;
      const display = this.display(type);
      return {
        name: offers[0].serviceName,
        id: offers[0].serviceId,
        description: `${display.name} databases from dbaas. ${QUARANTINE_NOTE}`,
        tags: [...display.tags, 'dbaas'],
        bindable: true,
        instances_retrievable: true,
        bindings_retrievable: true,
        allow_context_updates: false,
        plan_updateable: true,
        metadata: {
          displayName: `${display.name} (dbaas)`,
          longDescription: `A ${display.name} database on a dbaas-managed server; each binding is its own login. ${QUARANTINE_NOTE}`,
          providerDisplayName: 'dbaas',
        },
        plans: offers.map((offer) => {
          const size = sizeText(offer.plan.sizeLimitInBytes);
          const summary = offer.plan.description || `${display.name} plan ${offer.plan.name}`;
          return {
            id: offer.planId,
            name: offer.planName,
            description:
              `${summary} in ${offer.environment.name}, ${size}. ${QUARANTINE_NOTE}`.slice(0, 255),
            free: true,
            plan_updateable: true,
            maximum_polling_duration: 600,
            metadata: {
              displayName: `${offer.plan.name} (${offer.environment.name})`,
              bullets: [
                size,
                `environment ${offer.environment.name}`,
                'deprovisioning = quarantine, restorable by a dba',
              ],
              dbaas: {
                plan: offer.plan.id,
                environment: offer.environment.id,
                size_limit_in_bytes: offer.plan.sizeLimitInBytes,
              },
            },
            schemas: {
              service_instance: {
                create: { parameters: INSTANCE_PARAMETERS_SCHEMA },
                update: { parameters: INSTANCE_UPDATE_PARAMETERS_SCHEMA },
              },
              service_binding: { create: { parameters: BINDING_PARAMETERS_SCHEMA } },
            },
          };
        }),
      };
    });
    return { services };
  }
}
