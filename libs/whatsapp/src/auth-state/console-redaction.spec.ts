import { randomBytes } from 'node:crypto';
import { redactKeyMaterialInConsole } from './console-redaction';

describe('redactKeyMaterialInConsole', () => {
  it('replaces key material in console arguments and can be undone', () => {
    const lines: unknown[][] = [];
    const sink = { log: jest.fn(), info: (...args: unknown[]) => lines.push(args), warn: jest.fn(), error: jest.fn(), debug: jest.fn(), trace: jest.fn() };
    const originalInfo = sink.info;
    const restore = redactKeyMaterialInConsole(sink);
    class SessionEntry {
      currentRatchet = { ephemeralKeyPair: { privKey: randomBytes(32) } };
    }
    const secret = randomBytes(32);
    sink.info('Closing session:', new SessionEntry());
    sink.info('nested', { keys: { privKey: secret } }, [secret], secret);
    sink.info('plain text', 42, { count: 1 });
    expect(lines[0]).toEqual(['Closing session:', '[redacted: key material]']);
    expect(lines[1]).toEqual(['nested', { keys: '[redacted: key material]' }, ['[redacted: key material]'], '[redacted: key material]']);
    expect(lines[2]).toEqual(['plain text', 42, { count: 1 }]);
    restore();
    expect(sink.info).toBe(originalInfo);
  });
});
