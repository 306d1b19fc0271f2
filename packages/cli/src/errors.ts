/** A failure to report as one line on stderr, with the exit code it ends the command with. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  /** The file the failure is about, named first on the line. */
  readonly file: string | undefined;

  constructor(message: string, options: { exitCode?: number; file?: string } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? 1;
    this.file = options.file;
  }
}

/** Exit code for a command stopped by Ctrl+C, as shells report it (128 + SIGINT). */
export const INTERRUPTED = 130;

interface Coded {
  name: string;
  message: string;
  code?: unknown;
  status?: unknown;
  cause?: unknown;
}

/**
 * One line: `discord-images: [<file>: ]<CODE>[ (<status>)]: <message>`. Errors of the SDK
 * are recognised by name, so this module needs no SDK import (the entry loads it lazily).
 */
export function failureLine(error: unknown, file?: string): string {
  const e = (error ?? {}) as Coded;
  const about = file ?? (error instanceof CliError ? error.file : undefined);
  const prefix = `discord-images: ${about ? `${about}: ` : ''}`;
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, '; ').trim();
  if (e.name === 'ApiError') return `${prefix}${String(e.code)} (${String(e.status)}): ${oneLine(e.message)}`;
  if (e.name === 'NetworkError') {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return `${prefix}NETWORK_ERROR: ${oneLine(`${e.message}${cause && !e.message.includes(cause.slice(2)) ? cause : ''}`)}`;
  }
  if (error instanceof CliError) return `${prefix}${oneLine(error.message)}`;
  if (e.name === 'ConfigError') return `${prefix}invalid server configuration: ${oneLine(e.message)}`;
  if (typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code)) return `${prefix}${e.code}: ${oneLine(e.message)}`;
  if (error instanceof Error) return `${prefix}${oneLine(error.message)}`;
  return `${prefix}${oneLine(String(error))}`;
}

/** Writes the failure line and returns the exit code it calls for. */
export function reportFailure(error: unknown, file?: string): number {
  process.stderr.write(`${failureLine(error, file)}\n`);
  return error instanceof CliError ? error.exitCode : 1;
}

/** Runs `action` on each id in turn; one that fails gets its line and the others go on. Returns the exit code. */
export async function forEachId(ids: string[], action: (id: string) => Promise<unknown>): Promise<number> {
  let failed = 0;
  for (const id of ids) {
    try {
      await action(id);
    } catch (error) {
      reportFailure(error, id);
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}
