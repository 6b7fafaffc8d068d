//! The sandbox channel and its documented test instruments (README, "Test instruments").

use super::{Channel, Decline, Instrument, Outcome};

pub const SLOW_PENDING_MS: i64 = 3_000;

pub struct Sandbox;

impl Channel for Sandbox {
    fn authorize(&self, instrument: &Instrument, _amount: u64, attempt: u32) -> Outcome {
        match instrument {
            Instrument::Wallet(w) if w == "wallet_ok" => Outcome::Succeeded,
            Instrument::Wallet(_) => Outcome::Failed(Decline::InsufficientFunds),
            Instrument::Card { digits, .. } => match digits.as_str() {
                "4242424242424242" | "6222000000000000" => Outcome::Succeeded,
                "4000000000000002" => Outcome::Failed(Decline::CardDeclined),
                "4000000000009995" => Outcome::Failed(Decline::InsufficientFunds),
                "4000000000000069" => Outcome::Failed(Decline::ExpiredCard),
                "4000000000000119" if attempt == 0 => Outcome::Failed(Decline::ProcessingError),
                "4000000000000119" => Outcome::Succeeded,
                "4000000000003220" => Outcome::Pending {
                    after_ms: SLOW_PENDING_MS,
                },
                // Any other valid number is an unknown card to the sandbox bank.
                _ => Outcome::Failed(Decline::CardDeclined),
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
