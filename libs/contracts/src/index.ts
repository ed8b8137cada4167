export * from './problem';
export * from './messages';
export * from './session-gateway';
export * from './media-rules';
