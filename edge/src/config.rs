//! Settings the worker reads from its environment. Secrets are wrapped in [`Secret`], which never
//! prints its value: reading one takes an explicit `.peek()`.

use core::fmt;
use serde::{Deserialize, Serialize};

/// A secret value: an API key, a webhook secret, a token key. It is stored and sent where it
/// must be (serde is transparent), but `Debug` never shows it, so no log or panic leaks one.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s)
    }

    pub fn peek(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// Where this worker runs. Only `Dev` enables the dev-only routes (demo orders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    Production,
    Dev,
}

impl Deployment {
    /// `PAYDESK_ENV` is `production` in wrangler.toml and `dev` in the git-ignored `.dev.vars`.
    pub fn from_var(v: Option<&str>) -> Deployment {
        match v {
            Some("dev") => Deployment::Dev,
            _ => Deployment::Production,
        }
    }
}

/// The dev-only demo merchant from `.dev.vars`.
#[derive(Debug, Clone)]
pub struct DemoMerchant {
    pub merchant_id: String,
    pub api_key: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("sk_live_very_secret".into());
        assert_eq!(format!("{s:?}"), "Secret(****)");
        assert_eq!(s.peek(), "sk_live_very_secret");
        // Stored and sent as the plain value, where it must be.
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#""sk_live_very_secret""#);
        assert_eq!(crate::json_text::from_text::<Secret>(&json).unwrap(), s);
    }

    #[test]
    fn anything_but_dev_is_production() {
        assert_eq!(Deployment::from_var(Some("dev")), Deployment::Dev);
        assert_eq!(Deployment::from_var(Some("Dev")), Deployment::Production);
        assert_eq!(Deployment::from_var(None), Deployment::Production);
    }
}
