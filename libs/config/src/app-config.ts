import type { SessionRuntimeSettings } from './session-runtime-settings';
import type { MessagingSettings } from './messaging-settings';
import type { WebhookDeliverySettings } from './webhook-delivery-settings';

export type Role = 'all' | 'api' | 'worker';
export const ROLES: readonly Role[] = ['all', 'api', 'worker'];
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The whole configuration of one process, validated once at boot.
 * It is a class so that it can be injected by type; nothing else in the
 * codebase reads `process.env`.
 */
export class AppConfig {
  readonly port: number;
  readonly host: string;
  readonly role: Role;
  readonly dataDir: string;
  /** Unset: embedded PGlite under `dataDir`. */
  readonly databaseUrl?: string;
  /** Unset: the database queue driver and in-process events. */
  readonly redisUrl?: string;
  /** Key prefix of every BullMQ queue, so several deployments (or test runs) can share one Redis. */
  readonly queuePrefix: string;
  /** The bootstrap admin key; unset: one is generated on first start and only its hash is kept. */
  readonly adminApiKey?: string;
  /** 32-byte master key for stored WhatsApp credentials; unset (embedded only): generated under `dataDir`. */
  readonly credentialsKey?: Buffer;
  /** The master key before a rotation: still accepted for reading until `npm run rotate-credentials-key` has re-wrapped every session. */
  readonly credentialsKeyPrevious?: Buffer;
  /** Session ownership lease: lifetime in the database, renewal period, and how long before expiry a holder stops on its own. */
  readonly leaseTtlMs: number;
  readonly leaseRenewIntervalMs: number;
  readonly leaseSafetyMarginMs: number;
  readonly logLevel: LogLevel;
  readonly sandboxUrl?: string;
  readonly webhookAllowPrivateHosts: string[];
  readonly webhookDelivery: WebhookDeliverySettings;
  readonly messaging: MessagingSettings;
  readonly sessionRuntime: SessionRuntimeSettings;
  readonly migrateOnBoot: boolean;
  readonly metricsRequireAuth: boolean;
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  readonly bodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;

  constructor(values: Omit<AppConfig, 'embedded' | 'runsApi' | 'runsWorker' | 'withCredentialsKey'>) {
    Object.assign(this, values);
  }

  /** Embedded mode: PGlite in DATA_DIR and the database queue; `npm start` needs nothing else. */
  get embedded(): boolean {
    return !this.databaseUrl;
  }

  get runsApi(): boolean {
    return this.role !== 'worker';
  }

  get runsWorker(): boolean {
    return this.role !== 'api';
  }

  withCredentialsKey(key: Buffer): AppConfig {
    return new AppConfig({ ...this, credentialsKey: key });
  }
}
