import cluster from 'node:cluster';
import { type DeletionBus, LocalDeletionBus } from './services/deletion-bus.js';

interface DeletionMessage {
  type: 'upload-deleted';
  id: string;
}

const isDeletion = (message: unknown): message is DeletionMessage =>
  typeof message === 'object' && message !== null && (message as DeletionMessage).type === 'upload-deleted';

/** In a cluster worker: deletions go to the main process, which relays them to every other worker. */
export class ClusterDeletionBus implements DeletionBus {
  private readonly local = new LocalDeletionBus();

  constructor() {
    process.on('message', (message) => {
      if (isDeletion(message)) this.local.publish(message.id);
    });
  }

  publish(id: string): void {
    this.local.publish(id);
    process.send?.({ type: 'upload-deleted', id } satisfies DeletionMessage);
  }

  subscribe(listener: (id: string) => void): void {
    this.local.subscribe(listener);
  }
}

/** In the main process: passes each worker's deletions on to the other workers. */
export function relayDeletions(): void {
  cluster.on('message', (from, message) => {
    if (!isDeletion(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker && worker !== from) worker.send(message);
    }
  });
}
