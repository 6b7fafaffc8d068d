//! The sandbox channel and its documented test instruments (README, "Test instruments").

use super::{Channel, Decline, Instrument, Outcome};

pub const SLOW_PENDING_MS: i64 = 3_000;

pub struct Sandbox;

/// How a test card behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Succeeds,
    Declines(Decline),
    /// Fails with a processing error on the first attempt, succeeds after.
    FailsOnce,
    Pending,
}

/// The documented test cards. Their last four digits differ, so a card kept on a contract
/// (last four only) behaves as the full number does.
const TEST_CARDS: [(&str, Behaviour); 7] = [
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
];

fn card(instrument: &Instrument) -> Option<Option<Behaviour>> {
    let find = |f: &dyn Fn(&str) -> bool| TEST_CARDS.iter().find(|(n, _)| f(n)).map(|(_, b)| *b);
    match instrument {
        Instrument::Wallet(_) => None,
        Instrument::Card { digits, .. } => Some(find(&|n| n == digits)),
        Instrument::CardOnFile { last4, .. } => Some(find(&|n| n.ends_with(last4.as_str()))),
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
        let behaviour = match (instrument, card(instrument)) {
            (Instrument::Wallet(w), _) if w == "wallet_ok" => Behaviour::Succeeds,
            (Instrument::Wallet(_), _) => Behaviour::Declines(Decline::InsufficientFunds),
            (_, Some(Some(b))) => b,
            _ => Behaviour::Declines(Decline::CardDeclined),
        };
        match behaviour {
            Behaviour::Succeeds => Outcome::Succeeded,
            Behaviour::Declines(d) => Outcome::Failed(d),
            Behaviour::FailsOnce if attempt == 0 => Outcome::Failed(Decline::ProcessingError),
            Behaviour::FailsOnce => Outcome::Succeeded,
            Behaviour::Pending => Outcome::Pending {
                after_ms: SLOW_PENDING_MS,
            },
        }
    }

    fn query(&self, instrument_last4: &str) -> Outcome {
        match instrument_last4 {
            "3220" => Outcome::Succeeded,
            _ => Outcome::Failed(Decline::ProcessingError),
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
        let s = Sandbox;
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
        let s = Sandbox;
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
