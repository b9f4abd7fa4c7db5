/**
 * Serialises async work: one piece at a time, in the order given. A DuckDB connection runs
 * one statement at a time, so the store's connections and the workspace sandbox each queue
 * their statements through one of these. A failed piece does not stop the ones after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work, work);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
