/**
 * Thrown by a job handler when retrying cannot help (bad input, recipient not
 * on WhatsApp, logged-out session): the job becomes a dead letter at once.
 */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export enum QueueErrorCode {
  InvalidQueueName = 'QUEUE_INVALID_QUEUE_NAME',
  InvalidJobName = 'QUEUE_INVALID_JOB_NAME',
  DuplicateHandler = 'QUEUE_DUPLICATE_HANDLER',
  MissingHandler = 'QUEUE_MISSING_HANDLER',
  UnknownJob = 'QUEUE_UNKNOWN_JOB',
  Closed = 'QUEUE_CLOSED',
}

/** Misuse of the queue layer (a programming or configuration error, not a job failure). */
export class QueueError extends Error {
  constructor(
    readonly code: QueueErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QueueError';
  }
}
