import { sendPipelineE2E } from './e2e-send.suite';

describe('send pipeline end to end on PGlite and the database queue', () => {
  sendPipelineE2E(async () => ({}));
});
