import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** A count of the inventory: databases of one engine type and state, or all credentials. */
export interface InventoryRow {
  kind: 'database' | 'credential';
  engine: string | null;
  state: string | null;
  n: number;
}

/** Databases per engine type and state, and all credentials: one round trip, on each scrape. */
const INVENTORY_SQL = `
  SELECT 'database' AS kind, et.name AS engine, d.status AS state, count(*)::int AS n
    FROM "database" d
    JOIN infra i ON i.id = d.infra_id
    JOIN engine e ON e.id = i.engine_id
    JOIN engine_type et ON et.id = e.engine_type_id
   GROUP BY et.name, d.status
  UNION ALL
  SELECT 'credential', NULL, NULL, count(*)::int FROM credential`;

/**
 * The `/metrics` inventory, read across the databases' and the catalog's tables in one
 * statement (a scrape must stay cheap): read-only, so it stays with the metrics.
 */
@Injectable()
export class InventoryRepository {
  constructor(@InjectDataSource() private readonly store: DataSource) {}

  countAll(): Promise<InventoryRow[]> {
    return this.store.query<InventoryRow[]>(INVENTORY_SQL);
  }
}
