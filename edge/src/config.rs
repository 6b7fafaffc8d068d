//! Settings the worker reads from its environment. Secrets are wrapped in [`Secret`], which never
//! prints its value: reading one takes an explicit `.peek()`.

use core::fmt;

#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s)
    }

    pub fn peek(&self) -> &str {
        &self.0
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
    }

    #[test]
    fn anything_but_dev_is_production() {
        assert_eq!(Deployment::from_var(Some("dev")), Deployment::Dev);
        assert_eq!(Deployment::from_var(Some("Dev")), Deployment::Production);
        assert_eq!(Deployment::from_var(None), Deployment::Production);
    }
}
