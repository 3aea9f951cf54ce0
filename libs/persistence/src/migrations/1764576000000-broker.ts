import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Open Service Broker API: the `broker` role, the platform's service instances (one per
 * dbaas database, with the platform's context) and service bindings (one per credential).
 */
export class Broker1764576000000 implements MigrationInterface {
  name = 'Broker1764576000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "user" DROP CONSTRAINT user_role_check;
      ALTER TABLE "user" ADD CONSTRAINT user_role_check CHECK (role IN ('dba', 'regular', 'broker'));

      CREATE TABLE broker_instance (
        instance_id varchar(255) PRIMARY KEY,
        service_id varchar(255) NOT NULL,
        plan_id varchar(255) NOT NULL,
        dbaas_plan_id int NOT NULL,
        environment_id int NOT NULL,
        user_id int NOT NULL,
        team_id int,
        context jsonb NOT NULL DEFAULT '{}',
        organization_guid varchar(255),
        space_guid varchar(255),
        parameters jsonb NOT NULL DEFAULT '{}',
        database_id int,
        database_name varchar NOT NULL,
        operation varchar NOT NULL CHECK (operation IN ('provision', 'deprovision')),
        operation_id varchar NOT NULL,
        state varchar NOT NULL CHECK (state IN ('in progress', 'succeeded', 'failed')),
        error varchar,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX broker_instance_database_id ON broker_instance(database_id);

      CREATE TABLE broker_binding (
        binding_id varchar(255) PRIMARY KEY,
        instance_id varchar(255) NOT NULL REFERENCES broker_instance(instance_id) ON DELETE CASCADE,
        service_id varchar(255) NOT NULL,
        plan_id varchar(255) NOT NULL,
        credential_id int,
        app_guid varchar(255),
        bind_resource jsonb NOT NULL DEFAULT '{}',
        context jsonb NOT NULL DEFAULT '{}',
        parameters jsonb NOT NULL DEFAULT '{}',
        state varchar NOT NULL CHECK (state IN ('in progress', 'succeeded')),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX broker_binding_instance_id ON broker_binding(instance_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE broker_binding; DROP TABLE broker_instance;
      UPDATE "user" SET role = 'regular' WHERE role = 'broker';
      ALTER TABLE "user" DROP CONSTRAINT user_role_check;
      ALTER TABLE "user" ADD CONSTRAINT user_role_check CHECK (role IN ('dba', 'regular'));
    `);
  }
}
