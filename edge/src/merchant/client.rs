//! The worker's side of the merchant object: one function that sends an [`Envelope`] to the
//! object of a merchant and reads its [`Reply`].

use super::protocol::{Command, Envelope, Reply};
use crate::error::AppError;
use worker::{Env, Method, Request, RequestInit};

pub async fn send(
    env: &Env,
    merchant_id: &str,
    request_id: &str,
    origin: &str,
    dev: bool,
    command: Command,
) -> Result<Reply, AppError> {
    let stub = env
        .durable_object("MERCHANT")?
        .id_from_name(merchant_id)?
        .get_stub()?;
    let envelope = Envelope {
        request_id: request_id.to_owned(),
        origin: origin.to_owned(),
        dev,
        command,
    };
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(serde_json::to_string(&envelope)?.into()));
    let req = Request::new_with_init("https://merchant.internal/command", &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    Ok(serde_json::from_slice(&resp.bytes().await?)?)
}
