import { ConfigError, loadConfig } from '@dbaas/core';
import { describeStore } from '@dbaas/persistence';
import { SampleDataService } from '@dbaas/sample-data';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`dbaas: invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = new Logger('dbaas');
  logger.log(`Metadata store: ${describeStore(config)}`);
  const app = await createApp(config);
  if (config.seedSampleData && (await app.get(SampleDataService).seedIfEmpty())) {
    logger.log('Empty store: sample data created (admin/123456, user/123456)');
  }
  await app.listen(config.port, config.host);
  logger.log(`Listening on http://${config.host}:${config.port} (Swagger UI at /api/docs)`);
}

void bootstrap();
