//! JSON text, read through serde_json's byte reader. serde_json compiles a decoder of each type
//! for each reader it is read with (`from_str` and `from_slice` are two), and the worker and the
//! merchant's object share one wasm: the envelopes and replies that cross the object's stub
//! arrive as bytes, so every JSON the edge reads from a `&str` (stored columns, headers,
//! request text) goes through the same reader and each type is compiled once.

use serde::Deserialize;

/// `serde_json::from_str`, through the byte reader.
pub fn from_text<'a, T: Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}
