import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's arguments strictly (an unknown option is an error, exit 2). Returns
 * undefined after printing `help` when --help is among them.
 */
export function parse<O extends Options>(args: string[], options: O, help: string) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]}: see --help`, { exitCode: 2 });
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(help);
    return undefined;
  }
  return parsed;
}

export function usageError(message: string): CliError {
  return new CliError(message, { exitCode: 2 });
}
