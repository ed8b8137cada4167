import 'reflect-metadata';
import { IsInt, IsOptional, IsString, MaxLength, getMetadataStorage, validateSync } from 'class-validator';
import { cacheValidationMetadata } from './validation-metadata-cache';

class Base {
  @IsString() name!: string;
}

class Derived extends Base {
  @IsInt() count!: number;
}

const constraintsOf = (object: object, options = {}) =>
  validateSync(object, options).map((e) => ({ property: e.property, constraints: Object.keys(e.constraints ?? {}).sort() }));

describe('cacheValidationMetadata', () => {
  const bad = () => Object.assign(new Derived(), { name: 7, count: 'x' });
  const before = constraintsOf(bad());
  const beforeGrouped = constraintsOf(bad(), { groups: ['g'], always: true });

  beforeAll(() => cacheValidationMetadata());

  it('gives the same results as the uncached lookup, inherited rules included, also with groups', () => {
    expect(before).toEqual([
      { property: 'count', constraints: ['isInt'] },
      { property: 'name', constraints: ['isString'] },
    ]);
    expect(constraintsOf(bad())).toEqual(before);
    expect(constraintsOf(bad(), { groups: ['g'], always: true })).toEqual(beforeGrouped);
    expect(constraintsOf(Object.assign(new Derived(), { name: 'a', count: 1 }))).toEqual([]);
  });

  it('resolves a class once per set of options', () => {
    const storage = getMetadataStorage();
    const first = storage.getTargetValidationMetadatas(Derived, '', false, false);
    expect(storage.getTargetValidationMetadatas(Derived, '', false, false)).toBe(first);
    expect(storage.getTargetValidationMetadatas(Derived, '', true, false)).not.toBe(first);
    expect(storage.groupByPropertyName(first)).toBe(storage.groupByPropertyName(first));
    expect(first.map((m) => m.propertyName).sort()).toEqual(['count', 'name']);
  });

  it('sees a class defined after the cache was installed', () => {
    class Later extends Base {
      @IsOptional() @IsString() @MaxLength(3) note?: string;
    }
    expect(constraintsOf(Object.assign(new Later(), { name: 'a', note: 'too long' }))).toEqual([{ property: 'note', constraints: ['maxLength'] }]);
    expect(constraintsOf(Object.assign(new Later(), { name: 1 }))).toEqual([{ property: 'name', constraints: ['isString'] }]);
  });
});
