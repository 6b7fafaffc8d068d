//! The worker's side of the merchant object: one call that sends a command to a merchant's
//! object and reads the reply its [`Ask`] names, or the error the object answered with.

use super::protocol::{Ask, Call, Envelope};
use crate::error::AppError;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::DurableObject;
use worker::{web_sys, Env, Method, Request, RequestInit};

impl Call {
    /// Sends `command` to the object of `merchant_id` and reads its typed reply.
    pub async fn ask<A: Ask>(
        &self,
        env: &Env,
        merchant_id: &str,
        command: A,
    ) -> Result<A::Reply, AppError> {
        // The object's raw stub: worker-rs would wrap its reply in a `worker::Response`, whose
        // body it reads chunk by chunk through a stream reader (a promise and a wake-up per
        // chunk), and turning that back into the runtime's `Response` builds a new one.
        let stub: DurableObject = env
            .durable_object("MERCHANT")?
            .id_from_name(merchant_id)?
            .get_stub()?
            .into_rpc();
        let envelope = Envelope {
            call: self.clone(),
            command: command.into(),
        };
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(serde_json::to_string(&envelope)?.into()));
        let req = Request::new_with_init("https://merchant.internal/command", &init)?;
        let outcome: Result<serde_json::Value, AppError> =
            serde_json::from_slice(&reply_body(&stub, &req).await?)?;
        Ok(serde_json::from_value(outcome?)?)
    }
}

/// The object's reply to `req`, its body read whole in one `arrayBuffer()`.
async fn reply_body(stub: &DurableObject, req: &Request) -> worker::Result<Vec<u8>> {
    let sent = stub.fetch_with_request(req.inner())?;
    let resp: web_sys::Response = JsFuture::from(sent).await?.unchecked_into();
    let body = JsFuture::from(resp.array_buffer()?).await?;
    Ok(js_sys::Uint8Array::new(&body).to_vec())
}
