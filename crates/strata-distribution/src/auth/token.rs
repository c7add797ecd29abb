//! The token server's JSON answer (Docker's `token.md`).
//!
//! `token` and `access_token` are aliases (OAuth2 clients read the second), so
//! servers send both and clients take whichever is present. `expires_in`
//! defaults to 60 seconds, and a token is never treated as living shorter than
//! that, as the spec asks for compatibility with older clients.

use serde::{Deserialize, Deserializer, Serialize};
use strata_oci::Timestamp;

use crate::error::{Error, Result};

/// Lifetime of a token whose response has no `expires_in`, and the minimum assumed.
pub const DEFAULT_EXPIRES_IN: u64 = 60;

/// A token server's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The same token under its OAuth2 name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Seconds the token stays valid after `issued_at`.
    #[serde(default = "default_expires_in", deserialize_with = "lenient_seconds")]
    pub expires_in: u64,
    /// When the token was issued, RFC 3339, kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    /// A refresh token, when the client asked for offline access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

fn default_expires_in() -> u64 {
    DEFAULT_EXPIRES_IN
}

/// Reads `expires_in` as sent by sloppy servers too: `null`, negative or
/// fractional numbers; anything unusable becomes the default.
fn lenient_seconds<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    let value = Option::<serde_json::Number>::deserialize(d)?;
    Ok(value
        .and_then(|n| {
            n.as_u64()
                .or_else(|| n.as_i64().map(|i| u64::try_from(i).unwrap_or(0)))
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        })
        .unwrap_or(DEFAULT_EXPIRES_IN))
}

impl TokenResponse {
    /// A response carrying `token` under both names, as a server sends it.
    pub fn new(token: &str, expires_in: u64, issued_at: Option<Timestamp>) -> Self {
        TokenResponse {
            token: Some(token.to_owned()),
            access_token: Some(token.to_owned()),
            expires_in,
            issued_at: issued_at.map(Timestamp::to_rfc3339),
            refresh_token: None,
        }
    }

    /// The token to send as `Authorization: Bearer …`: `token`, else `access_token`.
    pub fn bearer(&self) -> Option<&str> {
        [&self.token, &self.access_token]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|t| !t.is_empty())
    }

    /// Seconds to trust the token for: `expires_in`, but never under 60.
    pub fn lifetime_secs(&self) -> u64 {
        self.expires_in.max(DEFAULT_EXPIRES_IN)
    }

    /// `issued_at` parsed, when present and valid.
    pub fn issued_at(&self) -> Option<Timestamp> {
        self.issued_at.as_deref().and_then(Timestamp::parse_rfc3339)
    }

    /// When the token expires: `issued_at` (or `received`, when absent) plus its lifetime.
    pub fn expires_at(&self, received: Timestamp) -> Timestamp {
        let start = self.issued_at().unwrap_or(received);
        Timestamp(start.0 + i128::from(self.lifetime_secs()) * 1_000_000_000)
    }

    /// Parses a token server's body.
    pub fn from_slice(body: &[u8]) -> Result<Self> {
        serde_json::from_slice(body).map_err(|source| Error::InvalidDocument {
            what: "token response",
            source,
        })
    }

    /// The response as JSON bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        // Serialising strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn docker_hub_style_response_parses() {
        let body = br#"{"token":"abc","access_token":"abc","expires_in":300,"issued_at":"2024-01-02T03:04:05.123Z"}"#;
        let t = TokenResponse::from_slice(body).unwrap();
        assert_eq!(t.bearer(), Some("abc"));
        assert_eq!(t.lifetime_secs(), 300);
        let issued = t.issued_at().unwrap();
        assert_eq!(t.expires_at(Timestamp(0)).0 - issued.0, 300 * 1_000_000_000);
    }

    #[test]
    fn oauth_style_access_token_alone_is_enough() {
        let t =
            TokenResponse::from_slice(br#"{"access_token":"xyz","refresh_token":"r"}"#).unwrap();
        assert_eq!(t.bearer(), Some("xyz"));
        assert_eq!(t.expires_in, DEFAULT_EXPIRES_IN);
        assert_eq!(t.refresh_token.as_deref(), Some("r"));
        let empty_token = TokenResponse::from_slice(br#"{"token":"","access_token":"y"}"#).unwrap();
        assert_eq!(empty_token.bearer(), Some("y"));
        assert_eq!(TokenResponse::from_slice(b"{}").unwrap().bearer(), None);
    }

    #[test]
    fn short_or_odd_lifetimes_are_read_leniently() {
        let read = |json: &str| TokenResponse::from_slice(json.as_bytes()).unwrap();
        assert_eq!(read(r#"{"token":"a","expires_in":10}"#).lifetime_secs(), 60);
        assert_eq!(read(r#"{"token":"a","expires_in":null}"#).expires_in, 60);
        assert_eq!(read(r#"{"token":"a","expires_in":-5}"#).expires_in, 0);
        assert_eq!(read(r#"{"token":"a","expires_in":120.7}"#).expires_in, 120);
        let missing_issue = read(r#"{"token":"a","issued_at":"yesterday"}"#);
        assert_eq!(missing_issue.issued_at(), None);
        assert_eq!(
            missing_issue.expires_at(Timestamp::from_unix_seconds(100)),
            Timestamp::from_unix_seconds(160)
        );
    }

    #[test]
    fn server_responses_round_trip() {
        let t = TokenResponse::new(
            "tok",
            300,
            Some(Timestamp::from_unix_seconds(1_700_000_000)),
        );
        assert_eq!(t.issued_at.as_deref(), Some("2023-11-14T22:13:20Z"));
        let json = String::from_utf8(t.to_vec()).unwrap();
        assert_eq!(
            json,
            r#"{"token":"tok","access_token":"tok","expires_in":300,"issued_at":"2023-11-14T22:13:20Z"}"#
        );
        assert_eq!(TokenResponse::from_slice(json.as_bytes()).unwrap(), t);
        assert_eq!(
            t.issued_at(),
            Some(Timestamp::from_unix_seconds(1_700_000_000))
        );
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for bad in [
            &b""[..],
            b"null",
            br#""tok""#,
            br#"{"token":5}"#,
            br#"{"expires_in":"soon"}"#,
        ] {
            assert!(
                TokenResponse::from_slice(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
