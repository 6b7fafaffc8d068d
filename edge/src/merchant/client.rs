//! The worker's side of the merchant object: one call that sends a command to a merchant's
//! object and reads the reply its [`Ask`] names, or the error the object answered with.

use super::protocol::{Ask, Call, Envelope};
use crate::error::AppError;
use worker::{Env, Method, Request, RequestInit};

impl Call {
    /// Sends `command` to the object of `merchant_id` and reads its typed reply.
    pub async fn ask<A: Ask>(
        &self,
        env: &Env,
        merchant_id: &str,
        command: A,
    ) -> Result<A::Reply, AppError> {
        let stub = env
            .durable_object("MERCHANT")?
            .id_from_name(merchant_id)?
            .get_stub()?;
        let envelope = Envelope {
            call: self.clone(),
            command: command.into(),
        };
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(serde_json::to_string(&envelope)?.into()));
        let req = Request::new_with_init("https://merchant.internal/command", &init)?;
        let resp = stub.fetch_with_request(req).await?;
        let outcome: Result<serde_json::Value, AppError> =
            serde_json::from_slice(&whole_body(resp).await?)?;
        Ok(serde_json::from_value(outcome?)?)
    }
}

/// The reply's body in one read: `worker::Response::bytes` reads a stream body chunk by chunk
/// through a stream reader, a promise and a wake-up per chunk, on every command.
async fn whole_body(resp: worker::Response) -> Result<Vec<u8>, AppError> {
    let resp: worker::web_sys::Response = resp.into();
    let read = resp.array_buffer().map_err(worker::Error::from)?;
    let buf = wasm_bindgen_futures::JsFuture::from(read)
        .await
        .map_err(worker::Error::from)?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}
