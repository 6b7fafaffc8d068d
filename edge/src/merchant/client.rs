//! The worker's side of the merchant object: one call that sends a command to a merchant's
//! object and reads the reply its [`Ask`] names, or the error the object answered with.

use super::protocol::{ApiReply, ApiRequest, Ask, Call, Command, Envelope, RENDERED};
use crate::error::AppError;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::DurableObject;
use worker::{web_sys, Env, Method, Request, RequestInit};

/// The object's answer to a merchant API request.
pub enum ApiAnswer {
    /// Rendered by the object (`ApiRequest::render`): the client's status and JSON body, for
    /// the worker to pass on unread.
    Rendered(web_sys::Response),
    /// For the worker to render: XML, CSV, a streamed bill or export, no body, or an error's
    /// reply as typed.
    Reply(ApiReply),
}

impl Call {
    /// Sends `command` to the object of `merchant_id` and reads its typed reply.
    pub async fn ask<A: Ask>(
        &self,
        env: &Env,
        merchant_id: &str,
        command: A,
    ) -> Result<A::Reply, AppError> {
        let resp = self.send(env, merchant_id, command.into()).await?;
        outcome::<A>(&resp).await
    }

    /// Sends a merchant API request; the answer comes back rendered when `api.render` is set
    /// and the object could render it.
    pub async fn ask_api(
        &self,
        env: &Env,
        merchant_id: &str,
        api: ApiRequest,
    ) -> Result<ApiAnswer, AppError> {
        let resp = self.send(env, merchant_id, api.into()).await?;
        if resp.headers().has(RENDERED).map_err(worker::Error::from)? {
            return Ok(ApiAnswer::Rendered(resp));
        }
        Ok(ApiAnswer::Reply(outcome::<ApiRequest>(&resp).await?))
    }

    async fn send(
        &self,
        env: &Env,
        merchant_id: &str,
        command: Command,
    ) -> Result<web_sys::Response, AppError> {
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
            command,
        };
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(serde_json::to_string(&envelope)?.into()));
        let req = Request::new_with_init("https://merchant.internal/command", &init)?;
        let sent = stub
            .fetch_with_request(req.inner())
            .map_err(worker::Error::from)?;
        let resp = JsFuture::from(sent).await.map_err(worker::Error::from)?;
        Ok(resp.unchecked_into())
    }
}

/// The reply to `A`, or the error the object answered with, read whole in one `arrayBuffer()`.
async fn outcome<A: Ask>(resp: &web_sys::Response) -> Result<A::Reply, AppError> {
    let body = resp.array_buffer().map_err(worker::Error::from)?;
    let body = JsFuture::from(body).await.map_err(worker::Error::from)?;
    let body = js_sys::Uint8Array::new(&body).to_vec();
    serde_json::from_slice::<Result<A::Reply, AppError>>(&body)?
}
