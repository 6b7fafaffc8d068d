//! The sandbox's two channels, A and B, and their documented test instruments (README,
//! "Sandbox test instruments"). Every test card behaves alike on both, except the failover
//! cards, which make channel A fail or time out (and one, both channels).

use super::{Channel, Decline, Found, Instrument, Outcome};

pub const SLOW_PENDING_MS: i64 = 3_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sandbox {
    A,
    B,
}

/// How a test card behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Succeeds,
    Declines(Decline),
    /// Fails with a processing error on the first attempt, succeeds after.
    FailsOnce,
    Pending,
    /// Channel A answers with an error of its own; B charges.
    AFails,
    /// Channel A times out without charging; B charges.
    ATimesOut,
    /// Channel A times out, but it charged: asked, it says so.
    ATimesOutCharged,
    /// Every channel answers with an error of its own.
    AllFail,
}

/// The documented test cards. Their last four digits differ, so a card kept on a contract
/// (last four only) behaves as the full number does.
const TEST_CARDS: [(&str, Behaviour); 11] = [
    ("4242424242424242", Behaviour::Succeeds),
    ("6222000000000000", Behaviour::Succeeds),
    (
        "4000000000000002",
        Behaviour::Declines(Decline::CardDeclined),
    ),
    (
        "4000000000009995",
        Behaviour::Declines(Decline::InsufficientFunds),
    ),
    (
        "4000000000000069",
        Behaviour::Declines(Decline::ExpiredCard),
    ),
    ("4000000000000119", Behaviour::FailsOnce),
    ("4000000000003220", Behaviour::Pending),
    ("4000000000005126", Behaviour::AFails),
    ("4000000000005134", Behaviour::ATimesOut),
    ("4000000000005142", Behaviour::ATimesOutCharged),
    ("4000000000005159", Behaviour::AllFail),
];

fn card(instrument: &Instrument) -> Option<Option<Behaviour>> {
    let find = |f: &dyn Fn(&str) -> bool| TEST_CARDS.iter().find(|(n, _)| f(n)).map(|(_, b)| *b);
    match instrument {
        Instrument::Wallet(_) => None,
        Instrument::Card { digits, .. } => Some(find(&|n| n == digits)),
        Instrument::CardOnFile { last4, .. } => Some(find(&|n| n.ends_with(last4.as_str()))),
    }
}

impl Sandbox {
    fn behaviour(self, instrument: &Instrument) -> Behaviour {
        let b = match (instrument, card(instrument)) {
            (Instrument::Wallet(w), _) if w == "wallet_ok" => Behaviour::Succeeds,
            (Instrument::Wallet(_), _) => Behaviour::Declines(Decline::InsufficientFunds),
            (_, Some(Some(b))) => b,
            _ => Behaviour::Declines(Decline::CardDeclined),
        };
        match (self, b) {
            (
                Sandbox::B,
                Behaviour::AFails | Behaviour::ATimesOut | Behaviour::ATimesOutCharged,
            ) => Behaviour::Succeeds,
            _ => b,
        }
    }

    /// Whether the sandbox bank took the money on this attempt, whatever the channel answered
    /// (a timeout may hide a charge): the bank's own books, which the failover tests read.
    pub fn took_money(self, instrument: &Instrument, attempt: u32) -> bool {
        matches!(self.authorize(instrument, 0, attempt), Outcome::Succeeded)
            || self.behaviour(instrument) == Behaviour::ATimesOutCharged
    }
}

impl Channel for Sandbox {
    fn verify(&self, instrument: &Instrument) -> Result<(), Decline> {
        match card(instrument) {
            // Any other valid number is an unknown card to the sandbox bank.
            Some(None) => Err(Decline::CardDeclined),
            _ => Ok(()),
        }
    }

    fn authorize(&self, instrument: &Instrument, _amount: u64, attempt: u32) -> Outcome {
        match self.behaviour(instrument) {
            Behaviour::Succeeds => Outcome::Succeeded,
            Behaviour::Declines(d) => Outcome::Failed(d),
            Behaviour::FailsOnce if attempt == 0 => Outcome::Failed(Decline::ProcessingError),
            Behaviour::FailsOnce => Outcome::Succeeded,
            Behaviour::Pending => Outcome::Pending {
                after_ms: SLOW_PENDING_MS,
            },
            Behaviour::AFails | Behaviour::AllFail => Outcome::Unavailable,
            Behaviour::ATimesOut | Behaviour::ATimesOutCharged => Outcome::TimedOut,
        }
    }

    fn query(&self, instrument_last4: &str) -> Outcome {
        match instrument_last4 {
            "3220" => Outcome::Succeeded,
            _ => Outcome::Failed(Decline::ProcessingError),
        }
    }

    fn find(&self, instrument: &Instrument, attempt: u32) -> Found {
        if self.took_money(instrument, attempt) {
            Found::Charged
        } else {
            Found::NotCharged
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_shared::api::{NextStep, PayMethod};

    fn card(d: &str) -> Instrument {
        Instrument::Card {
            method: PayMethod::CreditCard,
            digits: d.into(),
        }
    }

    #[test]
    fn documented_instruments() {
        let s = Sandbox::A;
        assert_eq!(
            s.authorize(&Instrument::Wallet("wallet_ok".into()), 1, 0),
            Outcome::Succeeded
        );
        assert_eq!(
            s.authorize(&Instrument::Wallet("wallet_low".into()), 1, 0),
            Outcome::Failed(Decline::InsufficientFunds)
        );
        assert_eq!(
            s.authorize(&card("4242424242424242"), 1, 0),
            Outcome::Succeeded
        );
        assert_eq!(
            s.authorize(&card("6222000000000000"), 1, 0),
            Outcome::Succeeded
        );
        assert_eq!(
            s.authorize(&card("4000000000000002"), 1, 0),
            Outcome::Failed(Decline::CardDeclined)
        );
        assert_eq!(
            s.authorize(&card("4000000000009995"), 1, 0),
            Outcome::Failed(Decline::InsufficientFunds)
        );
        assert_eq!(
            s.authorize(&card("4000000000000069"), 1, 0),
            Outcome::Failed(Decline::ExpiredCard)
        );
        assert_eq!(
            s.authorize(&card("4000000000000119"), 1, 0),
            Outcome::Failed(Decline::ProcessingError)
        );
        assert_eq!(
            s.authorize(&card("4000000000000119"), 1, 1),
            Outcome::Succeeded
        );
        assert_eq!(
            s.authorize(&card("4000000000003220"), 1, 0),
            Outcome::Pending { after_ms: 3000 }
        );
        assert_eq!(s.query("3220"), Outcome::Succeeded);
        assert_eq!(
            s.authorize(&card("4000000000000010"), 1, 0),
            Outcome::Failed(Decline::CardDeclined),
            "an unknown card"
        );
    }

    #[test]
    fn cards_on_file_behave_as_their_numbers() {
        let s = Sandbox::A;
        for (number, _) in TEST_CARDS {
            let on_file = Instrument::CardOnFile {
                method: PayMethod::BankCard,
                last4: number[12..].into(),
            };
            for attempt in [0, 1] {
                assert_eq!(
                    s.authorize(&on_file, 1, attempt),
                    s.authorize(&card(number), 1, attempt),
                    "{number}"
                );
            }
            assert_eq!(s.verify(&card(number)), Ok(()));
        }
        let last4s: std::collections::HashSet<_> =
            TEST_CARDS.iter().map(|(n, _)| &n[12..]).collect();
        assert_eq!(
            last4s.len(),
            TEST_CARDS.len(),
            "last four digits tell the cards apart"
        );
        assert_eq!(
            s.verify(&card("4000000000000010")),
            Err(Decline::CardDeclined)
        );
        assert_eq!(s.verify(&Instrument::Wallet("wallet_low".into())), Ok(()));
    }

    #[test]
    fn failover_cards_make_channel_a_fail_or_time_out() {
        let (a, b) = (Sandbox::A, Sandbox::B);
        assert_eq!(
            a.authorize(&card("4000000000005126"), 1, 0),
            Outcome::Unavailable
        );
        assert_eq!(
            b.authorize(&card("4000000000005126"), 1, 0),
            Outcome::Succeeded
        );
        assert_eq!(
            a.authorize(&card("4000000000005134"), 1, 0),
            Outcome::TimedOut
        );
        assert_eq!(a.find(&card("4000000000005134"), 0), Found::NotCharged);
        assert!(!a.took_money(&card("4000000000005134"), 0));
        assert_eq!(
            a.authorize(&card("4000000000005142"), 1, 0),
            Outcome::TimedOut
        );
        assert_eq!(a.find(&card("4000000000005142"), 0), Found::Charged);
        assert!(
            a.took_money(&card("4000000000005142"), 0),
            "the timeout hid a charge"
        );
        assert_eq!(
            b.authorize(&card("4000000000005159"), 1, 0),
            Outcome::Unavailable
        );
        assert!(b.took_money(&card("4242424242424242"), 0));
        assert!(!b.took_money(&card("4000000000000002"), 0));
    }

    #[test]
    fn declines_say_what_helps() {
        assert_eq!(Decline::ProcessingError.next_step(), NextStep::Retry);
        assert_eq!(Decline::CardDeclined.next_step(), NextStep::SwitchMethod);
        assert_eq!(
            Decline::InsufficientFunds.next_step(),
            NextStep::SwitchMethod
        );
        assert_eq!(Decline::ExpiredCard.next_step(), NextStep::SwitchMethod);
    }
}
