//! Registry authentication vocabulary: challenges, scopes and token responses.
//!
//! A registry that wants credentials answers 401 with a `WWW-Authenticate`
//! header ([`Challenge`], RFC 7235); for `Bearer` the challenge names a token
//! realm, a service and the [`Scope`]s needed (Docker's token auth, `token.md`
//! and `scope.md`), and the token server answers with a [`TokenResponse`].
//! Everything here parses and formats; fetching tokens, caching them and
//! deciding who may do what belong to the client and the server.

mod challenge;
mod scope;
mod token;

pub use challenge::{AuthScheme, Challenge};
pub use scope::{format_scopes, Actions, Scope};
pub use token::{TokenResponse, DEFAULT_EXPIRES_IN};
