import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionsController } from './connections.controller';
import { SessionsRepository } from './sessions.repository';

@Module({})
export class SessionsModule {
  static forRole({ api }: { api: boolean }): DynamicModule {
    return { module: SessionsModule, controllers: api ? [ConnectionsController] : [], providers: [SessionsRepository], exports: [SessionsRepository] };
  }
}
