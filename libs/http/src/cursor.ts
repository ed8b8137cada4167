import { ErrorCode } from '../../contracts/src';
import { ProblemException } from '../../http/src/problem.exception';

/** Keyset pagination cursor over (created_at, id): stable while rows are added. */
export interface Cursor {
  createdAt: string;
  id: string;
}

export const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [string, string];
    if (typeof createdAt !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(createdAt))) throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw new ProblemException(400, ErrorCode.ValidationFailed, 'cursor is not a cursor returned by this API', { errors: [{ field: 'cursor', messages: ['invalid cursor'] }] });
  }
}
