import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { DataSource } from 'typeorm';
import { BullmqMessageQueue, DatabaseMessageQueue, JobHandlerRegistry, MessageQueue, QueueModule } from '../../libs/queue/src';
import { TEST_REDIS_URL, createTestDatabase, describeWithServices, uniquePrefix, waitFor } from '../support/services';
import { openDataSource } from './support/drivers';

@Injectable()
class MessageSendHandler implements OnModuleInit {
  readonly sent: string[] = [];
  constructor(private readonly registry: JobHandlerRegistry) {}
  onModuleInit(): void {
    this.registry.register<{ to: string }>('MessageSend', async (job) => {
      this.sent.push(job.payload.to);
    });
  }
}

@Module({ providers: [MessageSendHandler], exports: [MessageSendHandler] })
class MessagingTestModule {}

describeWithServices(['postgres', 'redis'], 'QueueModule', () => {
  let database: { url: string; drop: () => Promise<void> };
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('queue_module');
    dataSource = await openDataSource({ driver: 'postgres', url: database.url });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const boot = (jobNames: string[], redisUrl?: string) =>
    Test.createTestingModule({
      imports: [QueueModule.forRootAsync({ useFactory: () => ({ dataSource, redisUrl, prefix: uniquePrefix('queue-module') }), jobNames }), MessagingTestModule],
    }).compile();

  it('provides the database driver without REDIS_URL and dispatches through the registry', async () => {
    const moduleRef = await boot(['MessageSend']);
    const app = await moduleRef.init();
    try {
      const queue = app.get(MessageQueue);
      expect(queue).toBeInstanceOf(DatabaseMessageQueue);
      await queue.consume('message-send.s1', app.get(JobHandlerRegistry).dispatch);
      await queue.enqueue('message-send.s1', 'MessageSend', { to: 'alice' });
      await waitFor(() => app.get(MessageSendHandler).sent.length === 1, { what: 'the dispatched job' });
      expect(app.get(MessageSendHandler).sent).toEqual(['alice']);
    } finally {
      await app.close();
    }
  });

  it('provides the BullMQ driver when a Redis URL is configured', async () => {
    const app = await (await boot(['MessageSend'], TEST_REDIS_URL)).init();
    try {
      expect(app.get(MessageQueue)).toBeInstanceOf(BullmqMessageQueue);
    } finally {
      await app.close();
    }
  });

  it('fails at boot when a produced job name has no handler', async () => {
    const moduleRef = await boot(['MessageSend', 'SessionStart']);
    await expect(moduleRef.init()).rejects.toThrow(/no handler for SessionStart/);
    // Nest's close() re-awaits the failed initialisation; the driver holds no connection before its first consume().
    await moduleRef.close().catch(() => undefined);
  });
});
