import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/src';
import { Readiness } from './readiness';

/** When REDIS_URL is set, /ready also needs Redis to answer PING. */
@Injectable()
export class RedisReadiness implements OnModuleInit, OnApplicationShutdown {
  private client?: Redis;

  constructor(
    private readonly config: AppConfig,
    private readonly readiness: Readiness,
  ) {}

  onModuleInit(): void {
    if (!this.config.redisUrl) return;
    // Fail fast instead of queueing commands while Redis is away: a probe must answer now.
    this.client = new Redis(this.config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: 'readiness' });
    this.client.on('error', () => undefined);
    this.readiness.register('redis', async () => {
      if (this.client!.status === 'wait' || this.client!.status === 'end') await this.client!.connect().catch(() => undefined);
      await this.client!.ping();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.client?.disconnect();
  }
}
