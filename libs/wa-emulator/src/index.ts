export { WaEmulator, WS_PATH, type WaEmulatorOptions } from './emulator';
export { SimulatedPhone, type OutgoingContent, type OutgoingMedia } from './simulated-phone';
export { EmulatorInputError } from './errors';
export { RootAuthority } from './identity/root-authority';
export { summarizeMessage } from './messages/message-summary';
export type { CreatePhoneInput, Fault, FaultType, PhoneOptions, PhoneSnapshot, ReceivedMessage } from './types';
