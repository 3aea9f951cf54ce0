import { Catalog1764230400000 } from './1764230400000-catalog';

/** In order; TypeORM records each applied one in the `migrations` table. */
export const MIGRATIONS = [Catalog1764230400000];
