import AjvCompiler, { type Options, type ValidatorFactory } from '@fastify/ajv-compiler';

/**
 * Fastify's Ajv compilers, one per kind of input. Query strings, path params and headers are
 * text, so `?limit=10` must become the number 10. A JSON body already has types: `{"name":12}`
 * is a client's mistake to report (400), not a key to create under the name "12".
 *
 * strictNumbers is off where values are coerced because Ajv, with it on, skips minimum and
 * maximum for a number that is not finite, and coercion turns `?limit=1e400` into Infinity,
 * which then passed `maximum: 1000` (and failed in SQL, a 500). Off, the bounds always apply.
 * JSON bodies keep it on: there a non-finite number (1e400 parses as Infinity) is refused.
 */
export function validatorPerHttpPart(): ValidatorFactory {
  const fromPool = AjvCompiler();
  return (externalSchemas, ajvOptions) => {
    // Fastify's `ajv` server option (plain Ajv, not JTD), with the one setting that differs.
    const base = (ajvOptions ?? {}) as { customOptions?: Options };
    const text = fromPool(externalSchemas, { ...base, customOptions: { ...base.customOptions, coerceTypes: true, strictNumbers: false } });
    const json = fromPool(externalSchemas, { ...base, customOptions: { ...base.customOptions, coerceTypes: false } });
    return (route) => (route.httpPart === 'body' ? json : text)(route);
  };
}
