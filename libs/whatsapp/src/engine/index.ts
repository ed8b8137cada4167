export * from './whatsapp-engine';
export * from './baileys-engine';
export * from './engine.provider';
export * from './content-builder';
export * from './incoming-mapper';
