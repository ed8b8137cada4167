import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The one question auth asks about connections; answered from the sessions table directly to keep auth free of the sessions lib. */
@Injectable()
export class SessionLookup {
  constructor(private readonly dataSource: DataSource) {}

  async exists(id: string): Promise<boolean> {
    const rows = await this.dataSource.query(`SELECT 1 FROM sessions WHERE id = $1 AND deleted_at IS NULL`, [id]);
    return rows.length > 0;
  }
}
