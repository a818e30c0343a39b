//! The JSON the login page reads (its server functions' answers, through
//! `components::call`, and every `AppError`), read in the browser without serde_json.
//!
//! serde_json's deserializer, with the float formatting serde's "invalid type" messages pull in,
//! was about 55 KB of the login page's WASM (before compression; measured from the name section
//! of the optimised main module) spent on a few strings and one error type. The browser reads
//! them with miniserde instead (one non-generic parser behind trait objects); the server still
//! writes them with serde_json, so the JSON on the wire is byte for byte what it was.

use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};

/// JSON written with serde_json and read with miniserde: `AppError`'s encoding, for every
/// server function (so any island reads errors without serde_json).
pub struct LiteJsonEncoding;

impl ContentType for LiteJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for LiteJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: serde::Serialize> Encodes<T> for LiteJsonEncoding {
    type Error = leptos::serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        leptos::serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: miniserde::Deserialize> Decodes<T> for LiteJsonEncoding {
    type Error = miniserde::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|_| miniserde::Error)?;
        miniserde::json::from_str(text)
    }
}

/// Reads what serde_json wrote for `T` (tests check the two agree on every value a page gets).
pub fn from_json<T: miniserde::Deserialize>(text: &str) -> Option<T> {
    miniserde::json::from_str(text).ok()
}

/// Writes `value` as serde_json does.
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    leptos::serde_json::to_string(value).unwrap_or_default()
}
