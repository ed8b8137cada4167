import { ReconnectSettings } from './reconnect-policy';

export interface RuntimeSettings {
  reconnect: ReconnectSettings;
  /** How long a send waits for WhatsApp's server ack. */
  sendAckTimeoutMs: number;
  /** An open that lasts this long clears the restart history. */
  stableAfterMs: number;
  /** Sessions started at once when restoring; each start is jittered. */
  restoreConcurrency: number;
  restoreJitterMs: number;
  /** How often the supervisor reconciles desired and actual state. */
  reconcileIntervalMs: number;
  /** How often the worker looks for commands from the API. */
  commandPollMs: number;
}

export const RUNTIME_SETTINGS = Symbol('RUNTIME_SETTINGS');
