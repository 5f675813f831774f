// A stage's answer that is ready now, or later. The pipeline's stages answer synchronously when
// nothing has to wait (most log lines: no json-rules-engine answer pending, nothing to write), so
// an event costs no promise and no microtask turn; `andThen` chains either kind without making one.
export type MaybePromise<T> = T | Promise<T>;

// Not named `then`: a module exporting `then` is a thenable, and `await import()` of it would call it.
export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
