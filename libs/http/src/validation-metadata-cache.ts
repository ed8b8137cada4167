import { getMetadataStorage } from 'class-validator';

type Storage = ReturnType<typeof getMetadataStorage>;
type Metadatas = ReturnType<Storage['getTargetValidationMetadatas']>;

let installed = false;

/**
 * class-validator resolves a class's rules on every `validate` call by
 * scanning every decorated class in the process (for inherited rules) and
 * grouping the result by property, with no cache
 * (typestack/class-validator#2686): on the send route that was a fifth of all
 * validation time. A class's rules are all registered when the class is
 * defined, before anything can validate it, so the lookup is a pure function
 * of its arguments and is cached here per target and options; a class
 * defined later gets its own entry. Idempotent.
 */
export function cacheValidationMetadata(storage: Storage = getMetadataStorage()): void {
  if (installed) return;
  installed = true;
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);
  const byTarget = new WeakMap<object, Map<string, Metadatas>>();
  const grouped = new WeakMap<Metadatas, ReturnType<Storage['groupByPropertyName']>>();

  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    // Schema-based validation (a string target) is not used here and is left uncached.
    if (typeof target !== 'function') return lookup(target, schema, always, strictGroups, groups);
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${(groups ?? []).join('\u0001')}`;
    let entries = byTarget.get(target);
    if (!entries) byTarget.set(target, (entries = new Map()));
    let metadatas = entries.get(key);
    if (!metadatas) entries.set(key, (metadatas = lookup(target, schema, always, strictGroups, groups)));
    return metadatas;
  };
  storage.groupByPropertyName = (metadatas) => {
    let result = grouped.get(metadatas);
    if (!result) grouped.set(metadatas, (result = group(metadatas)));
    return result;
  };
}
