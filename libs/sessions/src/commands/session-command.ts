/** `start`: a new connection exists; any worker reconciles now instead of at its next tick. */
export type SessionCommandType = 'start' | 'restart' | 'logout' | 'delete' | 'pairing-code';

export interface CommandRow {
  id: string;
  sessionId: string;
  type: SessionCommandType;
  payload: Record<string, unknown>;
}

/** Wakes the command runner of this process, when it has one (role all). */
export abstract class CommandWakeup {
  abstract wake(): void;
}
