import { DynamicModule, Module, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/src';
import { SessionGateway } from '../../contracts/src';
import { AuthStateStore, CredentialsKeyring, DatabaseAuthStateStore } from '../../whatsapp/src/auth-state';
import { createWhatsAppEngine, WhatsAppEngine } from '../../whatsapp/src/engine';
import { CommandWakeup } from './commands/session-command';
import { SessionCommands } from './commands/session-commands.service';
import { ConnectionActionsController } from './connection-actions.controller';
import { ConnectionsController } from './connections.controller';
import { DatabaseSessionLeases, SessionLeases } from './ownership';
import { RUNTIME_SETTINGS, RuntimeSettings } from './runtime/runtime-settings';
import { SessionStateWriter } from './runtime/session-state-writer';
import { SessionSupervisor } from './runtime/session-supervisor';
import { SessionsRepository } from './sessions.repository';

function runtimeSettings(config: AppConfig): RuntimeSettings {
  const s = config.sessionRuntime;
  return {
    reconnect: { baseDelayMs: s.reconnectBaseDelayMs, maxDelayMs: s.reconnectMaxDelayMs, maxRestarts: s.maxRestarts, windowMs: s.restartWindowMs },
    sendAckTimeoutMs: s.sendAckTimeoutMs,
    stableAfterMs: s.stableAfterMs,
    restoreConcurrency: s.restoreConcurrency,
    restoreJitterMs: s.restoreJitterMs,
    reconcileIntervalMs: s.reconcileIntervalMs,
    commandPollMs: s.commandPollMs,
  };
}

/** The worker half: sockets under leases, their supervisor, and the engine (only the worker imports libs/whatsapp). */
const workerProviders: Provider[] = [
  { provide: RUNTIME_SETTINGS, inject: [AppConfig], useFactory: runtimeSettings },
  {
    provide: SessionLeases,
    inject: [DataSource, AppConfig],
    useFactory: (dataSource: DataSource, config: AppConfig) =>
      new DatabaseSessionLeases(dataSource, { ttlMs: config.leaseTtlMs, renewIntervalMs: config.leaseRenewIntervalMs, safetyMarginMs: config.leaseSafetyMarginMs }),
  },
  { provide: WhatsAppEngine, inject: [AppConfig], useFactory: createWhatsAppEngine },
  {
    provide: AuthStateStore,
    inject: [DataSource, AppConfig, SessionLeases],
    useFactory: (dataSource: DataSource, config: AppConfig, leases: SessionLeases) => new DatabaseAuthStateStore(dataSource, CredentialsKeyring.fromConfig(config), leases),
  },
  SessionStateWriter,
  SessionSupervisor,
  { provide: SessionGateway, useExisting: SessionSupervisor },
  { provide: CommandWakeup, useExisting: SessionSupervisor },
];

/**
 * Connections: the REST resource (api role) and the sockets that serve them
 * (worker role). In role `all` one instance holds both, so a command from the
 * API wakes the supervisor in the same process at once.
 */
@Module({})
export class SessionsModule {
  static forRole({ api, worker }: { api: boolean; worker: boolean }): DynamicModule {
    return {
      module: SessionsModule,
      global: true,
      controllers: api ? [ConnectionsController, ConnectionActionsController] : [],
      providers: [SessionsRepository, SessionCommands, ...(worker ? workerProviders : [])],
      exports: [SessionsRepository, SessionCommands, ...(worker ? [SessionGateway, SessionSupervisor, SessionLeases] : [])],
    };
  }
}
