import { MigrationInterface, QueryRunner } from 'typeorm';

/** The job that carries a delivery's first attempt, so the reconciler can re-enqueue it under the same id. */
export class DeliveryFirstJob1765000000300 implements MigrationInterface {
  name = 'DeliveryFirstJob1765000000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN first_job_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN first_job_id`);
  }
}
