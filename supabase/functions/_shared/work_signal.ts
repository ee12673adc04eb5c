/**
 * The abort signal of the queue message being worked on, carried through async calls: the media
 * tools and the provider calls a unit makes stop when the worker gives up on it (its time limit),
 * without every provider interface passing a signal along.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const current = new AsyncLocalStorage<AbortSignal>();

/** Runs `body` with `signal` as the signal of everything it starts. */
export function runWithSignal<T>(signal: AbortSignal, body: () => Promise<T>): Promise<T> {
  return current.run(signal, body);
}

/** The signal of the work in progress, if any. */
export function workSignal(): AbortSignal | undefined {
  return current.getStore();
}
