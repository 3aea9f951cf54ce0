import { EngineMetrics, EngineRegistry } from '@dbaas/engines';
import { DATABASE_STATUSES, StatementCounter } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { RequestObserver } from './http-observability';
import { InventoryRepository, InventoryRow } from './inventory.repository';

/**
 * Everything `/metrics` serves: HTTP request durations, the engine operation metrics
 * (EngineMetrics, merged in), the inventory gauges computed on scrape, and Node's process
 * metrics (`process_*`, `nodejs_*`). Its own registry, not prom-client's global one, so two
 * apps in one process never collide.
 */
@Injectable()
export class MetricsService implements RequestObserver {
  private readonly own = new Registry();
  private readonly registry: Registry;

  private readonly httpDuration = new Histogram({
    name: 'dbaas_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.own],
  });

  private readonly databases = new Gauge({
    name: 'dbaas_databases',
    help: 'Databases in the metadata store by engine type and lifecycle state.',
    labelNames: ['engine', 'state'] as const,
    registers: [this.own],
  });

  private readonly credentials = new Gauge({
    name: 'dbaas_credentials',
    help: 'Credentials in the metadata store.',
    registers: [this.own],
  });

  private readonly storeUp = new Gauge({
    name: 'dbaas_metadata_store_up',
    help: '1 if the metadata store answered the last scrape, else 0 (the inventory gauges are then absent).',
    registers: [this.own],
  });

  /** What the store's StatementCounter had counted at the last scrape. */
  private statementsCounted = 0;

  private readonly storeStatements = new Counter({
    name: 'dbaas_metadata_store_statements_total',
    help: 'Statements this process sent to the metadata store (the scrape itself included).',
    registers: [this.own],
  });

  constructor(
    @InjectDataSource() private readonly store: DataSource,
    private readonly inventory: InventoryRepository,
    engineMetrics: EngineMetrics,
    private readonly engines: EngineRegistry,
  ) {
    collectDefaultMetrics({ register: this.own });
    this.registry = Registry.merge([this.own, engineMetrics.registry]);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_code: String(status) }, seconds);
  }

  /** The exposition text, with the inventory gauges read from the store just now. */
  async render(): Promise<string> {
    await this.refreshInventory();
    this.countStatements();
    return this.registry.metrics();
  }

  private countStatements(): void {
    const counter = this.store.logger;
    if (!(counter instanceof StatementCounter)) return;
    this.storeStatements.inc(counter.count - this.statementsCounted);
    this.statementsCounted = counter.count;
  }

  private async refreshInventory(): Promise<void> {
    this.databases.reset();
    this.credentials.reset();
    let rows: InventoryRow[];
    try {
      rows = await this.inventory.countAll();
    } catch {
      this.storeUp.set(0);
      return;
    }
    this.storeUp.set(1);
    // Every registered engine and state is reported, at 0 when empty, so series never vanish.
    for (const engine of this.engines.types())
      for (const state of DATABASE_STATUSES) this.databases.set({ engine, state }, 0);
    this.credentials.set(0);
    for (const row of rows) {
      if (row.kind === 'credential') this.credentials.set(Number(row.n));
      else
        this.databases.set(
          { engine: row.engine ?? 'unknown', state: row.state ?? 'unknown' },
          Number(row.n),
        );
    }
  }
}
