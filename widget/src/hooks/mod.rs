//! The pay page's side effects, one custom hook per file, so the `App` component is layout only.
//! Effects run after a render in the browser and never during the worker's server-side render,
//! so calling these hooks there touches no web API and changes no markup: hydration meets the
//! same page. The pure rules they act on are in [`crate::state`]; the network is [`crate::api`].

mod use_embed_events;
mod use_live_status;
mod use_pay_submission;
mod use_restore;
mod use_ticker;

pub use use_embed_events::{use_embed_events, UseEmbedEventsHandle};
pub use use_live_status::{use_live_status, UseLiveStatusHandle};
pub use use_pay_submission::{use_pay_submission, UsePaySubmissionHandle};
pub use use_restore::{use_restore, Restore};
pub use use_ticker::use_ticker;
