import { SendError, SendErrorCode } from '../../../contracts/src';
import { AckWaiter } from './ack-waiter';

describe('AckWaiter', () => {
  it('resolves on a plain ack and rejects on an error ack (rate limits apart)', async () => {
    const acks = new AckWaiter();
    const ok = acks.expect('A', 1000);
    acks.settle('A');
    await expect(ok).resolves.toBeInstanceOf(Date);
    const refused = acks.expect('B', 1000);
    acks.settle('B', '479');
    await expect(refused).rejects.toMatchObject({ code: SendErrorCode.ErrorAck });
    expect(acks.handles('B')).toBe(true);
    const limited = acks.expect('C', 1000);
    acks.settle('C', '429');
    await expect(limited).rejects.toMatchObject({ code: SendErrorCode.RateLimited });
  });

  it('times out, and fails every pending send as retryable when the socket closes', async () => {
    const acks = new AckWaiter();
    await expect(acks.expect('T', 10)).rejects.toMatchObject({ code: SendErrorCode.Timeout });
    const pending = acks.expect('P', 1000);
    acks.failAll('closed');
    const error = (await pending.catch((e) => e)) as SendError;
    expect(error.code).toBe(SendErrorCode.SessionNotConnected);
    expect(error.permanent).toBe(false);
  });
});
