/** A listener for events of type `E`. */
export type Listener<E> = (event: E) => void;

/**
 * A tiny typed event source. Emitting with no listeners costs one length check, so hot paths
 * test {@link EventSource.hasListeners} before building an event object.
 */
export class EventSource<E> {
  #listeners: Listener<E>[] = [];

  get hasListeners(): boolean {
    return this.#listeners.length > 0;
  }

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: Listener<E>): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((existing) => existing !== listener);
    };
  }

  emit(event: E): void {
    // A throwing listener must not corrupt the policy's bookkeeping: report it asynchronously.
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
