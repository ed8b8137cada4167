const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
const REDACTED = '[redacted: key material]';

/** libsignal prints whole session entries (root keys, ratchet private keys) on console.info/warn. */
function redact(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array) return REDACTED;
  if (typeof value !== 'object' || value === null || value instanceof Error || depth > 3) return value;
  const name = (value as object).constructor?.name;
  if (name === 'SessionEntry' || name === 'SessionRecord' || 'currentRatchet' in value || 'privKey' in value || 'private' in value) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (name !== 'Object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, depth + 1)]));
}

/**
 * The gateway logs through pino with redaction, but libsignal (under Baileys)
 * writes to the console directly, private keys included. Installed once in
 * the process that runs sockets, this replaces byte arrays and Signal session
 * objects in console arguments with a marker. Returns a function that undoes it.
 */
export function redactKeyMaterialInConsole(target: Pick<Console, (typeof METHODS)[number]> = console): () => void {
  const originals = METHODS.map((method) => [method, target[method]] as const);
  for (const [method, original] of originals) {
    target[method] = (...args: unknown[]) => original.apply(target, args.map((a) => redact(a)));
  }
  return () => {
    for (const [method, original] of originals) target[method] = original;
  };
}
