//! `WWW-Authenticate` challenges (RFC 7235 §4.1, with RFC 6750's Bearer parameters).
//!
//! ```text
//! WWW-Authenticate = 1#challenge
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! ```
//!
//! One header may hold several challenges separated by commas, which are also
//! the separators between parameters: a `token` followed by `=` continues the
//! current challenge, any other token starts the next one. Scheme and
//! parameter names are case-insensitive; names are kept lowercase.

use std::fmt;
use std::str::FromStr;

use super::scope::{format_scopes, Scope};
use crate::error::{Error, Result};
use crate::header::{is_tchar, write_quoted, Cursor};

/// An authentication scheme; `Basic` and `Bearer` are the two registries use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthScheme {
    /// RFC 7617 Basic.
    Basic,
    /// RFC 6750 Bearer (Docker's token auth).
    Bearer,
    /// Any other scheme, as written.
    Other(String),
}

impl AuthScheme {
    fn from_token(s: &str) -> Self {
        if s.eq_ignore_ascii_case("basic") {
            AuthScheme::Basic
        } else if s.eq_ignore_ascii_case("bearer") {
            AuthScheme::Bearer
        } else {
            AuthScheme::Other(s.to_owned())
        }
    }

    /// The scheme as written in headers (`Basic`, `Bearer`).
    pub fn as_str(&self) -> &str {
        match self {
            AuthScheme::Basic => "Basic",
            AuthScheme::Bearer => "Bearer",
            AuthScheme::Other(s) => s,
        }
    }
}

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme.
    pub scheme: AuthScheme,
    /// A token68 in place of parameters; registries never send one, but it is kept.
    pub token68: Option<String>,
    /// Parameters in order, names lowercase, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// `Basic realm="…"`.
    pub fn basic(realm: &str) -> Self {
        Challenge {
            scheme: AuthScheme::Basic,
            token68: None,
            params: vec![("realm".to_owned(), realm.to_owned())],
        }
    }

    /// `Bearer realm="…",service="…",scope="…"`, the scope left out when `scopes` is empty.
    pub fn bearer(realm: &str, service: &str, scopes: &[Scope]) -> Self {
        let mut params = vec![
            ("realm".to_owned(), realm.to_owned()),
            ("service".to_owned(), service.to_owned()),
        ];
        if !scopes.is_empty() {
            params.push(("scope".to_owned(), format_scopes(scopes)));
        }
        Challenge {
            scheme: AuthScheme::Bearer,
            token68: None,
            params,
        }
    }

    /// The same challenge with one more parameter (`error="insufficient_scope"`).
    pub fn with_param(mut self, name: &str, value: &str) -> Self {
        self.params
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// The first value of a parameter, by case-insensitive name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `realm` parameter: the token endpoint for Bearer.
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }

    /// The `service` parameter.
    pub fn service(&self) -> Option<&str> {
        self.param("service")
    }

    /// The scopes of every `scope` parameter (each a space-separated list).
    pub fn scopes(&self) -> Result<Vec<Scope>> {
        let mut scopes = Vec::new();
        for (_, value) in self.params.iter().filter(|(n, _)| n == "scope") {
            scopes.extend(Scope::parse_list(value)?);
        }
        Ok(scopes)
    }

    /// Parses every challenge of one header value.
    pub fn parse_all(header: &str) -> Result<Vec<Challenge>> {
        Parser {
            input: header,
            c: Cursor::new(header),
        }
        .challenges()
    }
}

impl fmt::Display for Challenge {
    /// `Bearer realm="https://auth/token",service="registry"`, values always quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme.as_str())?;
        if let Some(t) = &self.token68 {
            return write!(f, " {t}");
        }
        for (i, (name, value)) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { "," })?;
            write!(f, "{name}=")?;
            write_quoted(f, value)?;
        }
        Ok(())
    }
}

impl FromStr for Challenge {
    type Err = Error;

    /// Parses a header holding exactly one challenge.
    fn from_str(s: &str) -> Result<Self> {
        let mut all = Challenge::parse_all(s)?;
        match (all.pop(), all.is_empty()) {
            (Some(c), true) => Ok(c),
            _ => Err(Error::InvalidChallenge {
                input: s.to_owned(),
                reason: "expected exactly one challenge",
            }),
        }
    }
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

struct Parser<'a> {
    input: &'a str,
    c: Cursor<'a>,
}

impl Parser<'_> {
    fn fail(&self, reason: &'static str) -> Error {
        Error::InvalidChallenge {
            input: self.input.to_owned(),
            reason,
        }
    }

    fn challenges(mut self) -> Result<Vec<Challenge>> {
        let mut out = Vec::new();
        loop {
            self.c.skip_ws_and_commas();
            if self.c.peek().is_none() {
                break;
            }
            let scheme = self.c.run(is_tchar);
            if scheme.is_empty() {
                return Err(self.fail("expected an auth scheme"));
            }
            let mut challenge = Challenge {
                scheme: AuthScheme::from_token(scheme),
                token68: None,
                params: Vec::new(),
            };
            let spaced = self.c.skip_ws();
            if matches!(self.c.peek(), None | Some(b',')) {
                out.push(challenge);
                continue;
            }
            if !spaced {
                return Err(self.fail("expected a space after the auth scheme"));
            }
            self.params_or_token68(&mut challenge)?;
            out.push(challenge);
        }
        if out.is_empty() {
            return Err(self.fail("no challenge"));
        }
        Ok(out)
    }

    fn params_or_token68(&mut self, challenge: &mut Challenge) -> Result<()> {
        let mut first = true;
        loop {
            let start = self.c.pos;
            if let Some(param) = self.param()? {
                challenge.params.push(param);
            } else if first {
                self.c.pos = start;
                let t68 = self.c.run(is_token68_char);
                let pad = self.c.run(|b| b == b'=');
                if t68.is_empty() {
                    return Err(self.fail("expected a parameter or token68"));
                }
                challenge.token68 = Some(format!("{t68}{pad}"));
                self.c.skip_ws();
                return match self.c.peek() {
                    None | Some(b',') => Ok(()),
                    Some(_) => Err(self.fail("unexpected text after token68")),
                };
            } else {
                return Err(self.fail("expected a parameter"));
            }
            first = false;
            self.c.skip_ws();
            match self.c.peek() {
                None => return Ok(()),
                Some(b',') => {}
                Some(_) => return Err(self.fail("expected ',' between parameters")),
            }
            self.c.skip_ws_and_commas();
            // A token then `=` continues this challenge; anything else starts the next.
            let next = self.c.pos;
            let name_len = self.c.run(is_tchar).len();
            self.c.skip_ws();
            let continues = name_len > 0 && self.c.peek() == Some(b'=');
            self.c.pos = next;
            if !continues {
                return Ok(());
            }
        }
    }

    /// `name BWS "=" BWS value`, or `None` (nothing consumed) when the text is not one.
    fn param(&mut self) -> Result<Option<(String, String)>> {
        let start = self.c.pos;
        let name = self.c.run(is_tchar).to_ascii_lowercase();
        self.c.skip_ws();
        if name.is_empty() || !self.c.eat(b'=') {
            self.c.pos = start;
            return Ok(None);
        }
        self.c.skip_ws();
        let value = match self.c.peek() {
            Some(b'"') => self
                .c
                .quoted()
                .ok_or_else(|| self.fail("unterminated quoted string"))?,
            Some(b) if is_tchar(b) => self.c.run(is_tchar).to_owned(),
            _ => {
                // `abc=` or `abc==`: the padding of a token68, not a parameter.
                self.c.pos = start;
                return Ok(None);
            }
        };
        Ok(Some((name, value)))
    }
}

#[cfg(test)]
mod tests;
