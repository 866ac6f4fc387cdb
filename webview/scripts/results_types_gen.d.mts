// The type of results_types_gen.mjs, for the tests that import it.
export function resultsTypes(schema: unknown): string;
