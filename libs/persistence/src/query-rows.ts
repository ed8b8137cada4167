type Queryable = { query(sql: string, params?: unknown[]): Promise<unknown> };
export type Row = Record<string, unknown>;

/** Rows of any statement: TypeORM answers `[rows, count]` for UPDATE/DELETE on pg and plain rows elsewhere. */
export async function queryRows<T = Row>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const result: unknown = await db.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return (result ?? []) as T[];
}
