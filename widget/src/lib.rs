//! paydesk-widget: the payer's and the merchant's pages.
//!
//! - The pay page ([`page`]): the worker renders it ([`render_page`]) and inlines the order's
//!   `PayPageData` as JSON in `#paydesk-data`; in the browser (feature `browser`), [`mount`]
//!   takes over that markup with the same data and renderer, so the page is readable and
//!   payable (a real HTML form) before the wasm arrives. Behaviour lives in the pure reducer of
//!   [`state`]; [`api`] is the only module that talks to the edge; [`form`] is what the worker
//!   does with the form when there is no JavaScript.
//! - The contract page ([`contract`]): built the same way, its browser half (feature
//!   `contract-page`) in its own wasm.
//! - The merchant console (`console`, feature `console-page`): Yew components, in a wasm of its
//!   own.

pub mod api;
#[cfg(feature = "console-page")]
pub mod console;
pub mod contract;
pub mod form;
pub mod i18n;
pub mod page;
pub mod state;

pub use page::{render_page, Restore};

// The pay and contract pages' allocator: a free list of a few hundred bytes of code where
// dlmalloc is 7 KB. The pages allocate little and briefly; the console keeps the default.
// SAFETY: the page's wasm runs on the browser's one thread: nothing allocates concurrently.
#[cfg(all(
    target_arch = "wasm32",
    feature = "browser",
    not(feature = "console-page")
))]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

#[cfg(feature = "console-page")]
pub use console::mount_console;
#[cfg(feature = "contract-page")]
pub use contract::client::mount_contract;
#[cfg(all(
    feature = "browser",
    not(any(feature = "contract-page", feature = "console-page"))
))]
pub use page::client::mount;
