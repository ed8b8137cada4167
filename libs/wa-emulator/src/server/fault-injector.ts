import type { PhoneAccount } from '../accounts/phone';
import { EmulatorInputError } from '../errors';
import type { Fault } from '../types';
import type { DeviceConnection } from './device-connection';

/**
 * Applies a fault to an account: ack behaviour is a property of the account,
 * everything else acts on the live connections of its linked devices.
 * Returns how many connections it acted on.
 */
export function applyFault(phone: PhoneAccount, fault: Fault): number {
  switch (fault.type) {
    case 'ack-error':
      phone.ackErrors = { code: String(fault.code ?? '479'), remaining: fault.count && fault.count > 0 ? fault.count : Infinity };
      return 0;
    case 'ack-latency':
      phone.options.ackLatencyMs = Math.max(0, Number(fault.ms) || 0);
      return 0;
    case 'clear':
      phone.ackErrors = undefined;
      phone.options.ackLatencyMs = 0;
      for (const d of phone.devices.values()) if (d.connection) d.connection.stalled = false;
      return 0;
  }
  const devices = phone.activeDevices().filter((d) => fault.deviceId === undefined || d.deviceId === fault.deviceId);
  if (fault.type === 'logout') {
    if (devices.length === 0) throw new EmulatorInputError(`phone ${phone.phoneNumber} has no linked device to log out`, 409);
    for (const d of devices) {
      d.removed = true;
      d.connection?.streamError({ code: '401' }, { tag: 'conflict', attrs: { type: 'device_removed' } });
    }
    return devices.length;
  }
  const connections = devices.map((d) => d.connection).filter((c): c is DeviceConnection => !!c && !c.closed);
  if (connections.length === 0) throw new EmulatorInputError(`phone ${phone.phoneNumber} has no connected linked device`, 409);
  for (const c of connections) {
    switch (fault.type) {
      case 'drop':
        c.drop();
        break;
      case 'conflict':
        c.streamError({}, { tag: 'conflict', attrs: { type: 'replaced' } });
        break;
      case 'restart-required':
        c.streamError({ code: '515' });
        break;
      case 'stream-error':
        // A stream error without a code and with a child Baileys does not know maps to 500.
        if (fault.code === 500) c.streamError({}, { tag: 'internal-server-error', attrs: {} });
        else c.streamError({ code: String(fault.code ?? 503) });
        break;
      case 'failure':
        c.failure(fault.reason ?? 403);
        break;
      case 'stall':
        c.stalled = true;
        break;
    }
  }
  return connections.length;
}
