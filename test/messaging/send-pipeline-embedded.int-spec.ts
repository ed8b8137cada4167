import { sendPipelineSuite } from './send-pipeline.suite';

describe('send pipeline on embedded PGlite and the database queue', () => {
  sendPipelineSuite(
    async () => ({}),
    async (h, queue, jobId) => {
      await h.dataSource.query(`DELETE FROM queue_jobs WHERE queue = $1 AND job_id = $2`, [queue, jobId]);
    },
  );
});
