import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { InfraTarget } from '../engine-provider';
import { assertPlainName, DumpTool, holdErrors } from '../common/dump-tool';
import { runTool, ToolRun } from '../common/run-tool';
import { withWorkFolder } from '../common/work-folder';

const MONGODUMP = '/usr/bin/mongodump';
const MONGORESTORE = '/usr/bin/mongorestore';

/** Ends the database's sessions and drops it (its users stay): what a restore starts from. */
export type EmptyDatabase = (target: InfraTarget, database: string) => Promise<void>;

/**
 * MongoDB: `mongodump --archive --db=<name>` and `mongorestore --archive` (MongoDB Database
 * Tools). UNPROVEN: no MongoDB server or tools can be installed here, so this is only
 * unit-tested with the process runner faked (mongo.dump-tool.spec.ts).
 *
 * The password goes in a YAML `--config` file (mode 0600, in a private temporary folder,
 * removed after the run), never in the arguments. A restore first empties the database
 * (`emptyDatabase`, given by MongodbProvider: it ends the sessions of the database's users
 * and drops the database; MongoDB keeps users defined in a dropped database), then reads
 * the archive, renaming its namespaces to the target database (`--nsFrom=$db$.$coll$
 * --nsTo=<name>.$coll$`: a clone), with `--drop` and `--stopOnError`. Not atomic
 * (`atomicRestore` false): cut short, the database holds part of the backup's
 * collections; run the restore again from the same file.
 */
export class MongoDumpTool implements DumpTool {
  readonly atomicRestore = false;

  constructor(
    private readonly emptyDatabase: EmptyDatabase,
    private readonly run: (run: ToolRun) => Promise<void> = runTool,
    private readonly binaries = { dump: MONGODUMP, restore: MONGORESTORE },
  ) {}

  async dump(target: InfraTarget, database: string, out: Writable): Promise<void> {
    try {
      const db = assertPlainName(database);
      await this.withConfig(target, (args) =>
        this.run({
          name: 'mongodump',
          command: this.binaries.dump,
          args: [...args, `--db=${db}`, '--archive'],
          env: {},
          secrets: [target.adminPassword],
          output: out,
        }),
      );
    } catch (error) {
      out.destroy(error as Error);
      throw error;
    }
  }

  async restore(target: InfraTarget, database: string, input: Readable): Promise<void> {
    holdErrors(input);
    const db = assertPlainName(database);
    await this.emptyDatabase(target, db);
    await this.withConfig(target, (args) =>
      this.run({
        name: 'mongorestore',
        command: this.binaries.restore,
        args: [
          ...args,
          '--archive',
          '--nsFrom=$db$.$coll$',
          `--nsTo=${db}.$coll$`,
          '--drop',
          '--stopOnError',
        ],
        env: {},
        secrets: [target.adminPassword],
        input,
      }),
    );
  }

  /** The connection arguments, with the password in a config file that lives for `work`. */
  private async withConfig<T>(
    target: InfraTarget,
    work: (args: string[]) => Promise<T>,
  ): Promise<T> {
    return withWorkFolder('dbaas-mongo', async (dir) => {
      const config = join(dir, 'password.yaml');
      // A JSON string is a valid YAML double-quoted scalar.
      await writeFile(config, `password: ${JSON.stringify(target.adminPassword)}\n`, {
        mode: 0o600,
      });
      return await work([
        `--uri=mongodb://${target.addresses.join(',')}/`,
        '--authenticationDatabase=admin',
        `--username=${target.adminUser}`,
        `--config=${config}`,
      ]);
    });
  }
}
