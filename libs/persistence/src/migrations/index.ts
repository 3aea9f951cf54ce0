import { Catalog1764230400000 } from './1764230400000-catalog';
import { Databases1764316800000 } from './1764316800000-databases';
import { TasksAndLifecycle1764403200000 } from './1764403200000-tasks-and-lifecycle';
import { Broker1764576000000 } from './1764576000000-broker';
import { CredentialResetting1764662400000 } from './1764662400000-credential-resetting';
import { ProjectTeam1764748800000 } from './1764748800000-project-team';
import { ProcessOwners1764835200000 } from './1764835200000-process-owners';
import { DatabaseLost1764921600000 } from './1764921600000-database-lost';
import { Backups1765008000000 } from './1765008000000-backups';
import { DatabaseRestoringBackup1765051200000 } from './1765051200000-database-restoring-backup';
import { PlanLimits1765094400000 } from './1765094400000-plan-limits';
import { DatabaseOverSizeLimit1765180800000 } from './1765180800000-database-over-size-limit';

/** In order; TypeORM records each applied one in the `migrations` table. */
export const MIGRATIONS = [
  Catalog1764230400000,
  Databases1764316800000,
  TasksAndLifecycle1764403200000,
  Broker1764576000000,
  CredentialResetting1764662400000,
  ProjectTeam1764748800000,
  ProcessOwners1764835200000,
  DatabaseLost1764921600000,
  Backups1765008000000,
  DatabaseRestoringBackup1765051200000,
  PlanLimits1765094400000,
  DatabaseOverSizeLimit1765180800000,
];
