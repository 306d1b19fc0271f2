import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client';
import type { MetricsService } from './services/metrics.service.js';

type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** The primary asks a worker for its own metrics ('worker'), or a worker asks the primary for the cluster's ('cluster'). */
interface MetricsRequest {
  type: 'metrics-request';
  id: number;
  of: 'worker' | 'cluster';
}

interface MetricsAnswer {
  type: 'metrics-answer';
  id: number;
  value?: string | WorkerMetrics;
  error?: string;
}

const isRequest = (message: unknown): message is MetricsRequest =>
  typeof message === 'object' && message !== null && (message as MetricsRequest).type === 'metrics-request';
const isAnswer = (message: unknown): message is MetricsAnswer =>
  typeof message === 'object' && message !== null && (message as MetricsAnswer).type === 'metrics-answer';

/**
 * How long one process waits for another's metrics. A worker's answer is its registry read in
 * memory; one that takes this long has its event loop stuck, which the scrape should not hide.
 */
const ANSWER_TIMEOUT_MS = 5_000;

/** Requests sent over IPC and waiting for their answer, matched by id. */
class WaitingAnswers {
  private next = 0;
  private readonly waiting = new Map<number, (answer: MetricsAnswer) => void>();

  ask(of: MetricsRequest['of'], send: (request: MetricsRequest) => void, who: string): Promise<MetricsAnswer['value']> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${who} did not send its metrics within ${ANSWER_TIMEOUT_MS} ms.`));
      }, ANSWER_TIMEOUT_MS);
      this.waiting.set(id, (answer) => {
        clearTimeout(timer);
        if (answer.value !== undefined) resolve(answer.value);
        else reject(new Error(`${who} could not gather its metrics: ${answer.error ?? 'no reason given'}`));
      });
      send({ type: 'metrics-request', id, of });
    });
  }

  settle(answer: MetricsAnswer): void {
    const settle = this.waiting.get(answer.id);
    this.waiting.delete(answer.id);
    settle?.(answer);
  }
}

/** Answers a request with what `read` gives, or with why it failed. */
function answer(request: MetricsRequest, read: () => Promise<MetricsAnswer['value']>, send: (answer: MetricsAnswer) => void): void {
  read().then(
    (value) => send({ type: 'metrics-answer', id: request.id, value }),
    (error: unknown) => send({ type: 'metrics-answer', id: request.id, error: String(error) }),
  );
}

/**
 * In the primary of a cluster: the metrics of every worker, summed (prom-client's
 * AggregatorRegistry.aggregate, by each metric's own aggregator). Only workers that listen are
 * asked: one still starting has served nothing, and has nobody to answer yet (prom-client's own
 * clusterMetrics() asks it anyway, and fails the scrape after 5 s). Also answers the workers'
 * requests, so that /metrics on the main port, which a worker receives, covers the whole cluster too.
 */
export function gatherClusterMetrics(): { collect: () => Promise<string>; contentType: string } {
  const listening = new Set<Worker>();
  const answers = new WaitingAnswers();
  cluster.on('listening', (worker) => listening.add(worker));
  cluster.on('disconnect', (worker) => listening.delete(worker));
  const collect = async () => {
    const perWorker = await Promise.all(
      [...listening].map(
        (worker) => answers.ask('worker', (request) => worker.send(request), `Worker ${worker.process.pid}`) as Promise<WorkerMetrics>,
      ),
    );
    return AggregatorRegistry.aggregate(perWorker).metrics();
  };
  cluster.on('message', (worker, message) => {
    if (isAnswer(message)) answers.settle(message);
    else if (isRequest(message) && message.of === 'cluster') answer(message, collect, (reply) => worker.send(reply));
  });
  return { collect, contentType: Registry.PROMETHEUS_CONTENT_TYPE };
}

/**
 * In a cluster worker: answers the primary's requests for this worker's metrics, and returns
 * how to ask it for the whole cluster's (gatherClusterMetrics). Call before the worker listens.
 */
export function reportToPrimary(metrics: MetricsService): () => Promise<string> {
  const answers = new WaitingAnswers();
  const send = (message: MetricsRequest | MetricsAnswer) => process.send?.(message);
  process.on('message', (message) => {
    if (isAnswer(message)) answers.settle(message);
    else if (isRequest(message) && message.of === 'worker') answer(message, () => metrics.json(), send);
  });
  return () => answers.ask('cluster', send, 'The primary process') as Promise<string>;
}
