//! The Yew components the contract page shares with the pay page's look (one per file, each
//! with its `XxxProps`). The pay page itself renders without a framework: [`crate::page`].

mod card_form;
mod header;
mod method_picker;

pub use card_form::{CardForm, CardFormProps};
#[cfg(feature = "browser")]
pub use header::mark_logo;
pub use header::{initial, Header, HeaderProps};
pub use method_picker::{method_label, MethodPicker, MethodPickerProps};
