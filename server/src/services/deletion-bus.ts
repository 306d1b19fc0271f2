/**
 * Tells every process serving this instance that an upload was deleted, so none keeps serving
 * it from memory. In one process it is a plain list of listeners; with node:cluster the main
 * process relays (see cluster-deletion-bus.ts); across nodes a Redis channel does (redis/redis-deletion-bus.ts).
 */
export interface DeletionBus {
  publish(id: string): void;
  subscribe(listener: (id: string) => void): void;
}

export class LocalDeletionBus implements DeletionBus {
  private readonly listeners: ((id: string) => void)[] = [];

  publish(id: string): void {
    for (const listener of this.listeners) listener(id);
  }

  subscribe(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }
}
