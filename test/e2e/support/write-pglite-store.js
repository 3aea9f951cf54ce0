// Writes, with PGlite, the store of a version that kept it there: the schema of an older
// release (its first four migrations) and a few rows of each kind. Usage:
//   node write-pglite-store.js <folder>        (after `npm run build`)
// Plain JavaScript on the built libraries: PGlite is an ES module, which Jest cannot load.
const { join } = require('node:path');

const dist = join(__dirname, '..', '..', '..', 'dist', 'libs');
const { DataSource } = require('typeorm');
const { MIGRATIONS, pgliteOptions } = require(join(dist, 'persistence', 'src'));
const { PasswordHasher } = require(join(dist, 'core', 'src'));

async function main(dir) {
  const old = new DataSource({ ...pgliteOptions(dir), migrations: MIGRATIONS.slice(0, 4) });
  await old.initialize();
  await old.runMigrations();
  const hash = await new PasswordHasher().hash('old-secret');
  await old.query(`INSERT INTO team (name) VALUES ('payments'), ('search')`);
  await old.query(
    `INSERT INTO "user" (username, role, password_hash) VALUES ('carol', 'dba', $1)`,
    [hash],
  );
  await old.query(`INSERT INTO team_user (team_id, user_id) VALUES (2, 1)`);
  await old.query(`INSERT INTO project (name, description) VALUES ('ledger', 'from PGlite')`);
  await old.query(`INSERT INTO engine_type (name) VALUES ('postgresql')`);
  await old.query(`INSERT INTO engine (engine_type_id, version) VALUES (1, '15')`);
  await old.query(`INSERT INTO environment (name) VALUES ('prod')`);
  await old.query(`INSERT INTO plan (name, engine_id) VALUES ('pg-small', 1)`);
  await old.query(
    `INSERT INTO infra (name, engine_id, plan_id, environment_id, addresses, admin_user,
                        admin_password_encrypted, capacity)
     VALUES ('pg-a', 1, 1, 1, '["127.0.0.1:1", "127.0.0.1:2"]', 'postgres', 'sealed', 10)`,
  );
  await old.destroy();
}

main(process.argv[2]).catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
