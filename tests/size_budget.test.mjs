// Every built file keeps within 5 % of its figure in tests/size_budget.json: the pay page's and
// the contract page's widget, the console, the embed loader and the worker itself. Sizes are
// deterministic for a given build, so this is a budget, not a timing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT } from './support/worker.mjs';

const budget = JSON.parse(readFileSync(join(ROOT, 'tests', 'size_budget.json'), 'utf8'));

test('no_built_file_grows_more_than_five_percent_over_its_figure', (t) => {
  const over = [];
  for (const [file, figure] of Object.entries(budget.gzip_bytes)) {
    const gz = gzipSync(readFileSync(join(ROOT, file)), { level: 9 }).length;
    const change = gz / figure - 1;
    t.diagnostic(`${file}: ${gz} B gzip (figure ${figure}, ${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%)`);
    if (change > budget.tolerance) over.push(`${file} is ${gz} B gzip, ${(change * 100).toFixed(1)}% over its figure ${figure}`);
  }
  assert.deepEqual(over, [], 'fix the cause, or raise the figure in tests/size_budget.json and say why');
});

test('the_budget_names_the_files_that_are_loaded', () => {
  // The pay page's own first load is among them (tests/checkout_ui.test.mjs checks its totals).
  for (const f of ['www/pkg/paydesk_widget_bg.wasm', 'www/pkg/paydesk_widget.js', 'www/pay.css', 'edge/build/index_bg.wasm']) {
    assert.ok(f in budget.gzip_bytes, f);
  }
  assert.equal(budget.tolerance, 0.05);
});
