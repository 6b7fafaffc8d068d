// The merchant console: loads its wasm (built from the widget crate with `console-page`) and
// renders into #console-root.
import init, { mount_console } from '/pkg/paydesk_console.js';

await init({ module_or_path: '/pkg/paydesk_console_bg.wasm' });
mount_console();
