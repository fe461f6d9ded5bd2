// Active-context tracking on AsyncLocalStorage: what an OpenTelemetry SDK's context manager does,
// for the built-in request recorder (--trace-requests all) and for tests.
import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api';

/** Runs each context on AsyncLocalStorage; binds functions and the listeners of event emitters. */
export class AsyncLocalContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(context, () => fn.call(thisArg, ...args));
  }
  /** Binds functions, and the listeners an EventEmitter gets from now on, to `context`. */
  bind<T>(context: Context, target: T): T {
    if (target instanceof EventEmitter) {
      this.bindEmitter(context, target);
      return target;
    }
    if (typeof target !== 'function') return target;
    const fn = target as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.storage.run(context, () => fn(...args))) as T;
  }

  private bindEmitter(context: Context, emitter: EventEmitter): void {
    type Listener = (...args: unknown[]) => void;
    const boundOf = new WeakMap<Listener, Listener>();
    const storage = this.storage;
    const patchable = emitter as unknown as Record<
      string,
      (event: string | symbol, listener: Listener) => unknown
    >;
    for (const method of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener']) {
      const original = patchable[method]!;
      patchable[method] = function (this: EventEmitter, event, listener) {
        let bound = boundOf.get(listener);
        if (bound === undefined) {
          bound = (...args) => storage.run(context, () => listener.apply(this, args));
          boundOf.set(listener, bound);
        }
        return original.call(this, event, bound);
      };
    }
    for (const method of ['off', 'removeListener']) {
      const original = patchable[method]!;
      patchable[method] = function (this: EventEmitter, event, listener) {
        return original.call(this, event, boundOf.get(listener) ?? listener);
      };
    }
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}
