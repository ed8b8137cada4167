import { QueueError } from './errors';
import { JobHandlerRegistry } from './job-handler-registry';
import { assertJobName, assertQueueName } from './names';

describe('JobHandlerRegistry', () => {
  const noop = async () => undefined;

  it('refuses a second handler for one job name', () => {
    const registry = new JobHandlerRegistry().register('MessageSend', noop);
    expect(() => registry.register('MessageSend', noop)).toThrow(/two handlers/);
  });

  it('fails verification when a produced job has no handler, or a handler has no job', () => {
    const registry = new JobHandlerRegistry().register('MessageSend', noop).register('SessionStrat', noop);
    expect(() => registry.verify(['MessageSend', 'SessionStart'])).toThrow(/no handler for SessionStart; handlers for unknown jobs SessionStrat/);
    expect(() => new JobHandlerRegistry().register('MessageSend', noop).verify(['MessageSend'])).not.toThrow();
  });

  it('dispatches by job name and rejects an unknown one', async () => {
    const seen: string[] = [];
    const registry = new JobHandlerRegistry().register<{ to: string }>('MessageSend', async (job) => {
      seen.push(job.payload.to);
    });
    const job = { queue: 'message-send.s1', jobId: '1', attempt: 1, maxAttempts: 5 };
    await registry.dispatch({ ...job, name: 'MessageSend', payload: { to: 'a' } });
    expect(seen).toEqual(['a']);
    await expect(registry.dispatch({ ...job, name: 'WebhookDeliver', payload: null })).rejects.toBeInstanceOf(QueueError);
  });
});

describe('queue and job names', () => {
  it('accepts kebab-case queues with one optional key', () => {
    expect(assertQueueName('message-send.0f3a-B_9')).toBe('message-send.0f3a-B_9');
    expect(assertQueueName('webhook-delivery')).toBe('webhook-delivery');
    for (const bad of ['MessageSend', 'message_send', 'message-send:s1', 'a.b.c', '-x', '']) expect(() => assertQueueName(bad)).toThrow(QueueError);
  });

  it('accepts PascalCase job names only', () => {
    expect(assertJobName('MessageSend')).toBe('MessageSend');
    for (const bad of ['messageSend', 'message-send', 'MESSAGE', 'Message_Send']) expect(() => assertJobName(bad)).toThrow(QueueError);
  });
});
