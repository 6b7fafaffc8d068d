//! One component per file, each with its `XxxProps`.

mod amount;
mod card_form;
mod countdown;
mod guarantee;
mod header;
mod method_picker;
mod outcome;

pub use amount::{Amount, AmountProps};
pub use card_form::{CardForm, CardFormProps};
pub use countdown::{Countdown, CountdownProps};
pub use guarantee::{Guarantee, GuaranteeProps};
#[cfg(feature = "browser")]
pub use header::mark_logo;
pub use header::{Header, HeaderProps};
pub use method_picker::{method_label, MethodPicker, MethodPickerProps};
pub use outcome::{Outcome, OutcomeProps};
