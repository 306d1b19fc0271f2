import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';

interface MetricsRequest {
  type: 'metrics-request';
  id: number;
}

interface MetricsAnswer {
  type: 'metrics-answer';
  id: number;
  text?: string;
  error?: string;
}

const isRequest = (message: unknown): message is MetricsRequest =>
  typeof message === 'object' && message !== null && (message as MetricsRequest).type === 'metrics-request';
const isAnswer = (message: unknown): message is MetricsAnswer =>
  typeof message === 'object' && message !== null && (message as MetricsAnswer).type === 'metrics-answer';

/** Past prom-client's own 5 s wait for the workers, so its clearer error comes first. */
const ANSWER_TIMEOUT_MS = 6_000;

/**
 * In the primary of a cluster: the metrics of every worker, summed (prom-client's
 * AggregatorRegistry asks each worker for its registry over IPC). Also answers the workers'
 * requests for them, so that /metrics on the main port, which a worker receives, covers the
 * whole cluster too. Each worker must call MetricsService.reportToPrimary().
 */
export function gatherClusterMetrics(): { collect: () => Promise<string>; contentType: string } {
  const aggregator = new AggregatorRegistry();
  const collect = () => aggregator.clusterMetrics();
  cluster.on('message', (worker, message) => {
    if (!isRequest(message)) return;
    collect().then(
      (text) => worker.send({ type: 'metrics-answer', id: message.id, text } satisfies MetricsAnswer),
      (error: unknown) => worker.send({ type: 'metrics-answer', id: message.id, error: String(error) } satisfies MetricsAnswer),
    );
  });
  return { collect, contentType: aggregator.contentType };
}

/** In a cluster worker: the whole cluster's metrics, from the primary (gatherClusterMetrics). */
export function metricsFromPrimary(): () => Promise<string> {
  let next = 0;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message) => {
    if (!isAnswer(message)) return;
    const request = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.text !== undefined) request?.resolve(message.text);
    else request?.reject(new Error(`The primary process could not gather the metrics: ${message.error ?? 'no reason given'}`));
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('The primary process did not send the metrics in time.'));
      }, ANSWER_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send?.({ type: 'metrics-request', id } satisfies MetricsRequest);
    });
}
