// The claims view's adapter reads both kinds of claim results.json holds (schema/results.schema.json,
// $defs claim): a measured claim, and one that no stage measured, which shows as NOT RUN.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { ResultsClaim } from '../src/data/results_types';
import { claimsFromResults } from '../src/views/adapters/claims';
import type { ResultsDocument } from '../src/views/types';

test('a claim no stage measured is NOT RUN (passed null), with no threshold', () => {
  const claims: ResultsClaim[] = [
    { name: 'expect.3', expression: 'x', comparator: '>=', threshold: 0.5, measured: 0.7, passed: true, location: 'a.circuit:3:1' },
    { name: 'expect.4', expression: 'y', comparator: '<', bound: 'z * 2', measured: null, passed: false, location: 'a.circuit:4:1' },
  ];
  const results = { claims, passed: false } as unknown as ResultsDocument;
  const rows = claimsFromResults(results).claims;
  assert.deepEqual(rows.map((r) => r.passed), [true, null]);
  assert.equal(rows[0].threshold, 0.5);
  assert.ok(Number.isNaN(rows[1].threshold));
  assert.equal(rows[1].location?.line, 4);
});
