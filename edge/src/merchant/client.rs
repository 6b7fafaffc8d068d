//! The worker's side of the merchant object: a command sent to a merchant's object, and the
//! reply its [`Ask`] names or the error the object answered with. The merchant API has a call of
//! its own (`Call::ask_api`): its body goes to the object unread, and a JSON answer comes back
//! rendered for the client.

use super::protocol::{
    self, ApiReply, ApiRequest, Ask, Call, Command, Envelope, ENVELOPE, PROTOCOL, PROTOCOL_HEADER,
    RENDERED,
};
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
    /// For the worker to render: the XML order, a CSV statement, a streamed bill or export, or
    /// no body (an error comes back as the call's `Err`).
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
        let init = carrying(&self.envelope(command.into()))?;
        outcome::<A>(&send(env, merchant_id, &init).await?).await
    }

    /// Sends a merchant API request, its body either read already (`api.body`) or streamed to
    /// the object unread (`body`, with `api.body` empty); the answer comes back rendered when
    /// `api.render` is set and the object could render it.
    pub async fn ask_api(
        &self,
        env: &Env,
        merchant_id: &str,
        api: ApiRequest,
        body: Option<web_sys::ReadableStream>,
    ) -> Result<ApiAnswer, AppError> {
        let envelope = self.envelope(api.into());
        let init = match body {
            // Reading a client's body in the worker costs more than the object's reading it
            // from a stream the runtime pumps.
            Some(stream) => {
                let headers = worker::Headers::new();
                headers.set(PROTOCOL_HEADER, PROTOCOL)?;
                headers.set(ENVELOPE, &envelope.to_header()?)?;
                let mut init = RequestInit::new();
                init.with_method(Method::Post)
                    .with_headers(headers)
                    .with_body(Some(stream.into()));
                init
            }
            None => carrying(&envelope)?,
        };
        let resp = send(env, merchant_id, &init).await?;
        if resp.headers().has(RENDERED).map_err(worker::Error::from)? {
            return Ok(ApiAnswer::Rendered(resp));
        }
        Ok(ApiAnswer::Reply(outcome::<ApiRequest>(&resp).await?))
    }

    /// Dev only (`POST /dev/merchants/{id}/protocol-probe`): the one-`INSERT` bench write as a
    /// worker of another protocol version sends it; the object's answer, read as this version
    /// reads answers. The tests check that the object refuses it before doing anything.
    pub async fn ask_as_another_version(
        &self,
        env: &Env,
        merchant_id: &str,
    ) -> Result<super::protocol::BenchWritten, AppError> {
        let envelope = self.envelope(super::protocol::BenchWrite {}.into());
        let resp = deliver(env, merchant_id, &carrying_as(&envelope, "1")?).await?;
        outcome::<super::protocol::BenchWrite>(&resp).await
    }

    fn envelope(&self, command: Command) -> Envelope {
        Envelope {
            call: self.clone(),
            command,
        }
    }
}

/// A request to the object with `envelope` as its body.
fn carrying(envelope: &Envelope) -> Result<RequestInit, AppError> {
    carrying_as(envelope, PROTOCOL)
}

/// The same, saying it speaks `version` of the protocol.
fn carrying_as(envelope: &Envelope, version: &str) -> Result<RequestInit, AppError> {
    let headers = worker::Headers::new();
    headers.set(PROTOCOL_HEADER, version)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(serde_json::to_string(envelope)?.into()));
    Ok(init)
}

/// Sends `init` to the object of `merchant_id`; an answer from another version of the
/// protocol is refused unread.
async fn send(
    env: &Env,
    merchant_id: &str,
    init: &RequestInit,
) -> Result<web_sys::Response, AppError> {
    let resp = deliver(env, merchant_id, init).await?;
    let version = resp.headers().get(PROTOCOL_HEADER).ok().flatten();
    if !protocol::speaks(version.as_deref()) {
        return Err(protocol::other_version());
    }
    Ok(resp)
}

async fn deliver(
    env: &Env,
    merchant_id: &str,
    init: &RequestInit,
) -> Result<web_sys::Response, AppError> {
    // The object's raw stub: worker-rs would wrap its reply in a `worker::Response`, whose
    // body it reads chunk by chunk through a stream reader (a promise and a wake-up per
    // chunk), and turning that back into the runtime's `Response` builds a new one.
    let stub: DurableObject = env
        .durable_object("MERCHANT")?
        .id_from_name(merchant_id)?
        .get_stub()?
        .into_rpc();
    let req = Request::new_with_init("https://merchant.internal/command", init)?;
    let sent = stub
        .fetch_with_request(req.inner())
        .map_err(worker::Error::from)?;
    let resp = JsFuture::from(sent).await.map_err(worker::Error::from)?;
    Ok(resp.unchecked_into())
}

/// The reply to `A`, or the error the object answered with, read whole in one `arrayBuffer()`.
async fn outcome<A: Ask>(resp: &web_sys::Response) -> Result<A::Reply, AppError> {
    let body = resp.array_buffer().map_err(worker::Error::from)?;
    let body = JsFuture::from(body).await.map_err(worker::Error::from)?;
    let body = js_sys::Uint8Array::new(&body).to_vec();
    serde_json::from_slice::<Result<A::Reply, AppError>>(&body)?
}
