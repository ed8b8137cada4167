/**
 * One jest run covers the three tiers: unit specs next to the code (*.spec.ts),
 * integration specs against PostgreSQL/Redis (*.int-spec.ts) and end-to-end specs
 * against the emulator with the real Baileys (*.e2e-spec.ts).
 *
 * Baileys 7 and a few of its dependencies are ESM-only; jest on Node 20 cannot
 * require() them, so @swc/jest compiles them to CommonJS (they are excluded
 * from transformIgnorePatterns).
 */
const esmOnly = [
  '@whiskeysockets/baileys',
  'whatsapp-rust-bridge',
  'p-queue',
  'p-timeout',
  'eventemitter3',
  '@electric-sql/pglite',
  'typeorm-pglite',
  'libsignal',
  '@cacheable',
  'cacheable',
  'hookified',
  'keyv',
  'lru-cache',
  'music-metadata',
];
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'commonjs', ignoreDynamic: false },
    sourceMaps: 'inline',
  },
];
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{apps,libs,test}/**/*.{spec,int-spec,e2e-spec}.ts'],
  transform: { '^.+\\.(t|j|mj|cj)sx?$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper: {
    '^whatsapp-rust-bridge$': '<rootDir>/node_modules/whatsapp-rust-bridge/dist/index.js',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  globalSetup: '<rootDir>/test/support/jest-global-setup.ts',
  setupFiles: ['<rootDir>/test/support/jest-setup-env.ts'],
  testTimeout: 60000,
  forceExit: false,
};
