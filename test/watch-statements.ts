import type { SqlValue, Store } from '../src/store/store.ts';

/**
 * A store that, before it runs a statement beginning with one of `statements`, asks `look`
 * what it wants to know of the store at that moment (a setting, the planner's statistics) and
 * keeps the answer by statement: for a test of what a long job's statements run under.
 */
export function watchStatements<T>(
  store: Store,
  statements: readonly string[],
  look: (store: Store, params: readonly SqlValue[] | undefined) => Promise<T>,
): { store: Store; seen: Map<string, T> } {
  const seen = new Map<string, T>();
  const watching = new Proxy(store, {
    get(target, property) {
      if (property === 'run')
        return async (sql: string, params?: readonly SqlValue[]): Promise<number> => {
          const statement = statements.find((s) => sql.trimStart().startsWith(s));
          if (statement) seen.set(statement, await look(target, params));
          return target.run(sql, params);
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: watching, seen };
}
