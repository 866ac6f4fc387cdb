// Writes src/data/results_types.ts, the web app's one TypeScript definition of results.json,
// from the published schema (schema/results.schema.json). The output is committed;
// tests/results_types.test.ts fails when it differs from what the schema makes, so a field
// changed in the schema alone, or in the TypeScript alone, fails `npm test`.
// Usage (from webview/): node scripts/results_types.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { resultsTypes } from './results_types_gen.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const schemaPath = resolve(here, '../../schema/results.schema.json');
const typesPath = resolve(here, '../src/data/results_types.ts');
writeFileSync(typesPath, resultsTypes(JSON.parse(readFileSync(schemaPath, 'utf8'))));
console.log(`wrote ${typesPath}`);
