import { MESSAGING_JOB_NAMES } from '../../../libs/messaging/src/send-jobs';
import { WEBHOOK_JOB_NAMES } from '../../../libs/webhooks/src/jobs';

/**
 * Every job name the product produces. At boot a worker fails unless each has
 * exactly one handler (house style 4); libraries add their names here.
 */
export const JOB_NAMES: readonly string[] = [...WEBHOOK_JOB_NAMES, ...MESSAGING_JOB_NAMES];
