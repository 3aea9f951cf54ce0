import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { APP_CONFIG } from './core.constants';
import { PasswordHasher } from './crypto/password-hasher';
import { SecretBox } from './crypto/secret-box';

/** Configuration and crypto, available everywhere once the app imports CoreModule.forRoot(). */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: SecretBox, useValue: new SecretBox(config.secretKey) },
        PasswordHasher,
      ],
      exports: [APP_CONFIG, SecretBox, PasswordHasher],
    };
  }
}
