import { startWorker } from '../tests/support/worker.mjs';
import { loadRun, benchMerchant } from './lib/edge_load.mjs';
const w = await startWorker();
const m = await benchMerchant(w, 'http://127.0.0.1:9/x', 'x');
console.log(await loadRun({ url: w.url, scenario: 'health', connections: 32, duration: 4 }));
console.log(await loadRun({ url: w.url, scenario: 'create', connections: 32, duration: 2, merchant: m }));
console.log(w.log.slice(-3000));
await w.stop();
