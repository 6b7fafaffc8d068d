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

test('the_payers_pages_wasm_carry_no_panic_messages_or_source_paths', () => {
  // xtask/src/build.rs builds them so that a panic aborts on the spot (`WidgetBuild`): no
  // message, no file and line, none of core::fmt for them. Were the flags lost, the strings
  // below would come back with about 2.8 KB gzip of code.
  const markers = ['.rs', 'panicked', 'already borrowed', 'out of range for slice', 'called `Option::unwrap()`'];
  for (const file of ['www/pkg/paydesk_widget_bg.wasm', 'www/pkg/paydesk_contract_bg.wasm']) {
    const text = readFileSync(join(ROOT, file)).toString('latin1');
    for (const m of markers) assert.ok(!text.includes(m), `${file} holds "${m}"`);
  }
  // The console keeps them: Yew prints a panic's message to the browser's console.
  assert.ok(readFileSync(join(ROOT, 'www/pkg/paydesk_console_bg.wasm')).toString('latin1').includes('.rs'));
});
