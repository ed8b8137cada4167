import { QueueError, QueueErrorCode } from './errors';

/**
 * Queue names are kebab-case families, optionally followed by one key that
 * makes a queue per entity: `webhook-delivery`, `message-send.<sessionId>`.
 * Colons are excluded because BullMQ uses them as key separators.
 */
const QUEUE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[A-Za-z0-9_-]{1,128})?$/;

/** Job names are PascalCase, entity first: `MessageSend`, `SessionStart`. */
const JOB_NAME = /^[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*$/;

export function assertQueueName(queue: string): string {
  if (!QUEUE_NAME.test(queue)) {
    throw new QueueError(QueueErrorCode.InvalidQueueName, `queue name "${queue}" must be kebab-case, optionally with one ".<key>" suffix`);
  }
  return queue;
}

export function assertJobName(name: string): string {
  if (!JOB_NAME.test(name)) {
    throw new QueueError(QueueErrorCode.InvalidJobName, `job name "${name}" must be PascalCase, entity first (e.g. MessageSend)`);
  }
  return name;
}
