import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyService } from './api-key.service';
import { ApiKeysController } from './api-keys.controller';
import { SessionLookup } from './session-lookup';

@Module({})
export class AuthModule {
  /** The guard protects every role's routes; key management routes exist only where the REST API runs. */
  static forRole({ withKeyManagement }: { withKeyManagement: boolean }): DynamicModule {
    return {
      module: AuthModule,
      controllers: withKeyManagement ? [ApiKeysController] : [],
      providers: [ApiKeyService, SessionLookup, { provide: APP_GUARD, useClass: ApiKeyGuard }],
      exports: [ApiKeyService],
    };
  }
}
