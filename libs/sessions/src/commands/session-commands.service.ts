import { Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ErrorCode } from '../../../contracts/src';
import { ProblemException } from '../../../http/src/problem.exception';
import { SessionsException } from '../sessions.exception';
import { CommandWakeup, SessionCommandType } from './session-command';

/**
 * The API's way to ask the worker that owns a session to act on it. Commands
 * are rows: any api process can write them, the owning worker (or any worker,
 * for a session nobody runs) executes them and writes the result back, so the
 * same path works in one process and across many.
 */
@Injectable()
export class SessionCommands {
  constructor(
    private readonly dataSource: DataSource,
    @Optional() private readonly wakeup?: CommandWakeup,
  ) {}

  async issue(sessionId: string, type: SessionCommandType, payload: Record<string, unknown> = {}): Promise<string> {
    const [{ id }] = await this.dataSource.query(`INSERT INTO session_commands (session_id, type, payload) VALUES ($1, $2, $3) RETURNING id`, [sessionId, type, payload]);
    this.wakeup?.wake();
    return id;
  }

  /** Issues a command and waits for its result (pairing codes); a worker that does not answer in time gives a 503. */
  async run(sessionId: string, type: SessionCommandType, payload: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = await this.issue(sessionId, type, payload);
    const deadline = Date.now() + timeoutMs;
    for (let delay = 20; Date.now() < deadline; delay = Math.min(delay * 2, 250)) {
      const [row] = await this.dataSource.query(`SELECT completed_at, result, error FROM session_commands WHERE id = $1`, [id]);
      if (row?.completed_at) {
        if (row.error) throw new ProblemException(409, ErrorCode.SessionNotAwaitingQr, `The session could not do this now: ${row.error}`);
        return row.result ?? {};
      }
      await new Promise((r) => setTimeout(r, delay));
    }
    // Nobody took it: withdraw it so a worker does not act on a request the client has given up on.
    await this.dataSource.query(`UPDATE session_commands SET completed_at = now(), error = 'timed out' WHERE id = $1 AND claimed_at IS NULL`, [id]);
    throw new ProblemException(503, 'WORKER_UNAVAILABLE', `No worker answered within ${timeoutMs} ms; retry later`, {}, { 'retry-after': '5' });
  }

  /** Restart a session: it should run again; its owner restarts the socket, or a worker picks it up. */
  async restart(sessionId: string): Promise<void> {
    const [, updated] = await this.dataSource.query(
      `UPDATE sessions SET desired_state = 'running', status_reason = NULL, updated_at = now(),
              status = CASE WHEN status IN ('logged_out', 'failed', 'stopped', 'created') THEN 'connecting' ELSE status END
        WHERE id = $1 AND deleted_at IS NULL`,
      [sessionId],
    );
    if (updated === 0) throw SessionsException.notFound(sessionId);
    await this.issue(sessionId, 'restart');
  }
}
