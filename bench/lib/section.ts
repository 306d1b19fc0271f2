/** What run.ts hands each benchmark, and what each gives back. */
export interface SectionContext {
  /** A progress line on stderr, so that stdout carries only the result tables. */
  log(message: string): void;
  /** Full paths of the external tools, undefined when not installed. */
  tools: { nginx: string | undefined; wrk: string | undefined };
  /** Why the service cannot be measured (its build failed), or undefined when it can. */
  serviceUnavailable: string | undefined;
}

export interface SectionResult {
  table: string;
  /** Everything measured, for latest.json. */
  data: unknown;
  /** Anything that makes a figure missing or doubtful; non-empty makes the run exit 1. */
  problems: string[];
  /** Targets the service missed, one line each: a finding, not a failure of the bench. */
  missed?: string[];
}
