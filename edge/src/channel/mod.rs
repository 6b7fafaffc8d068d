//! Payment channels. A channel turns a payment attempt into an outcome; it does
//! no I/O itself (real channels will build requests and parse responses here, the glue fetches).
//! The sandbox offers two channels, A and B (`sandbox`), with test instruments that make A fail
//! or time out; `domain/circuit.rs` decides which channel a payment goes to.

pub mod sandbox;

use paydesk_shared::api::{NextStep, PayMethod};

/// What the payer pays with, after validation. Card numbers are only here, never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instrument {
    Wallet(String),
    Card {
        method: PayMethod,
        digits: String,
    },
    /// A card a contract charges: only its last four digits are kept.
    CardOnFile {
        method: PayMethod,
        last4: String,
    },
}

/// A channel's answer to one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Accepted, result later: poll again after `after_ms`.
    Pending {
        after_ms: i64,
    },
    Failed(Decline),
    /// The channel answered with an error of its own (not the payer's bank): nothing was
    /// charged, another channel may be tried.
    Unavailable,
    /// The channel did not answer in time: whether it charged is unknown until it is asked.
    TimedOut,
}

impl Outcome {
    /// A failed outcome's decline; a channel's own failure that routing left (it should not)
    /// counts as a processing error, which the payer may retry.
    pub fn decline(&self) -> Decline {
        match self {
            Outcome::Failed(d) => *d,
            _ => Decline::ProcessingError,
        }
    }
}

/// What a channel says, asked after a timeout, of the attempt it may have charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Charged,
    NotCharged,
    /// The question timed out too: nothing may be tried elsewhere until it is known.
    Unknown,
}

/// The channels a payment can go through, in the order a merchant prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelId {
    SandboxA,
    SandboxB,
}

impl ChannelId {
    pub const SANDBOX: [ChannelId; 2] = [ChannelId::SandboxA, ChannelId::SandboxB];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelId::SandboxA => "sandbox_a",
            ChannelId::SandboxB => "sandbox_b",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelId> {
        Self::SANDBOX.into_iter().find(|c| c.as_str() == s)
    }

    /// The channel's implementation.
    pub fn channel(self) -> sandbox::Sandbox {
        match self {
            ChannelId::SandboxA => sandbox::Sandbox::A,
            ChannelId::SandboxB => sandbox::Sandbox::B,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decline {
    CardDeclined,
    InsufficientFunds,
    ExpiredCard,
    ProcessingError,
}

impl Decline {
    pub fn code(self) -> &'static str {
        match self {
            Decline::CardDeclined => "CARD_DECLINED",
            Decline::InsufficientFunds => "INSUFFICIENT_FUNDS",
            Decline::ExpiredCard => "EXPIRED_CARD",
            Decline::ProcessingError => "PROCESSING_ERROR",
        }
    }

    /// The same decline as a refusal's reason (`domain::refusal::Reason`).
    pub fn reason(self) -> crate::domain::refusal::Reason {
        use crate::domain::refusal::Reason;
        match self {
            Decline::CardDeclined => Reason::CardDeclined,
            Decline::InsufficientFunds => Reason::InsufficientFunds,
            Decline::ExpiredCard => Reason::ExpiredCard,
            Decline::ProcessingError => Reason::ProcessingError,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Decline::CardDeclined => "The card was declined by its bank. Use another method.",
            Decline::InsufficientFunds => "Not enough funds. Use another card or method.",
            Decline::ExpiredCard => "The card has expired. Use another card or method.",
            Decline::ProcessingError => "The bank could not process the payment. Try again.",
        }
    }

    /// What can help: trying the same again, or another method.
    pub fn next_step(self) -> NextStep {
        match self {
            Decline::ProcessingError => NextStep::Retry,
            _ => NextStep::SwitchMethod,
        }
    }
}

/// One attempt. `attempt` counts this order's earlier attempts with the same instrument, so
/// a channel can model "fails once, then succeeds".
pub trait Channel {
    /// Whether an instrument can be kept on a contract (checked when the payer signs).
    fn verify(&self, instrument: &Instrument) -> Result<(), Decline>;
    fn authorize(&self, instrument: &Instrument, amount: u64, attempt: u32) -> Outcome;
    /// Resolves a pending attempt.
    fn query(&self, instrument_last4: &str) -> Outcome;
    /// After a timeout: did the attempt charge?
    fn find(&self, instrument: &Instrument, attempt: u32) -> Found;
}
