//! Authentication against one registry: anonymous, Basic, and Docker's Bearer
//! token flow, with tokens cached per scope set until they expire.
//!
//! The client learns the scheme from the first 401: `Basic` sends the stored
//! credential on every request after it; `Bearer` fetches a token from the
//! challenge's realm for the scopes the request needs (plus any the challenge
//! names), with the credential as Basic auth when there is one, anonymously
//! otherwise, and reuses it for requests with the same scopes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use strata_distribution::auth::format_scopes;
use strata_distribution::{AuthScheme, Challenge, Scope, TokenResponse};

use crate::credentials::Credential;
use crate::error::{Error, Result};

/// Tokens are dropped this long before they expire, for clock skew and latency.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// The longest token lifetime believed.
const MAX_LIFETIME_SECS: u64 = 24 * 3600;

/// What a registry told us about how to authenticate, and the tokens we hold.
#[derive(Debug, Default)]
pub(crate) struct Auth {
    credential: Option<Credential>,
    state: Mutex<State>,
    /// Held while a token is fetched, so parallel requests share one.
    fetching: Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    challenge: Option<Challenge>,
    tokens: HashMap<String, (String, Instant)>,
}

/// The scope key under which a token is cached.
fn scope_key(scopes: &[Scope]) -> String {
    format_scopes(&Scope::merge(scopes.iter().cloned()))
}

impl Auth {
    pub(crate) fn new(credential: Option<Credential>) -> Self {
        Auth {
            credential,
            state: Mutex::default(),
            fetching: Mutex::default(),
        }
    }

    pub(crate) fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    fn basic(&self) -> Option<String> {
        self.credential.as_ref().map(|c| {
            let raw = format!("{}:{}", c.username, c.secret);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The `Authorization` header for a request needing `scopes`, if one is known.
    pub(crate) fn header(&self, scopes: &[Scope]) -> Option<String> {
        let state = self.lock();
        match state.challenge.as_ref().map(|c| &c.scheme) {
            Some(AuthScheme::Basic) => self.basic(),
            Some(AuthScheme::Bearer) => {
                let key = scope_key(scopes);
                state
                    .tokens
                    .get(&key)
                    .filter(|(_, until)| *until > Instant::now())
                    .map(|(t, _)| format!("Bearer {t}"))
            }
            _ => None,
        }
    }

    /// Handles a 401 for a request needing `scopes` that was sent with the
    /// `Authorization` header `sent`. Returns true when the request should be
    /// sent again: a credential or token now applies that was not sent.
    pub(crate) fn unauthorized(
        &self,
        agent_for: &dyn Fn(&str) -> Result<ureq::Agent>,
        www_authenticate: Option<&str>,
        scopes: &[Scope],
        sent: Option<&str>,
    ) -> Result<bool> {
        let Some(header) = www_authenticate else {
            return Ok(false);
        };
        let challenges = Challenge::parse_all(header)?;
        let pick = challenges
            .iter()
            .find(|c| c.scheme == AuthScheme::Bearer)
            .or_else(|| challenges.iter().find(|c| c.scheme == AuthScheme::Basic));
        let Some(challenge) = pick.cloned() else {
            return Ok(false);
        };
        self.lock().challenge = Some(challenge.clone());
        let _fetching = self.fetching.lock().unwrap_or_else(|p| p.into_inner());
        // Another request may have fetched what this one lacked meanwhile.
        let now = self.header(scopes);
        if now.is_some() && now.as_deref() != sent {
            return Ok(true);
        }
        match challenge.scheme {
            // Basic: the credential was sent and refused, or there is none.
            AuthScheme::Basic => Ok(false),
            AuthScheme::Bearer => {
                let mut wanted: Vec<Scope> = scopes.to_vec();
                wanted.extend(challenge.scopes().unwrap_or_default());
                let realm = challenge.realm().ok_or_else(|| {
                    Error::protocol("token challenge", "no realm in WWW-Authenticate")
                })?;
                let token = self.fetch_token(&agent_for(realm)?, &challenge, &wanted)?;
                let fresh = Some(format!("Bearer {}", token.0));
                self.lock().tokens.insert(scope_key(scopes), token);
                // The same token refused twice: it does not grant this.
                Ok(fresh.as_deref() != sent)
            }
            AuthScheme::Other(_) => Ok(false),
        }
    }

    fn fetch_token(
        &self,
        agent: &ureq::Agent,
        challenge: &Challenge,
        scopes: &[Scope],
    ) -> Result<(String, Instant)> {
        let realm = challenge
            .realm()
            .ok_or_else(|| Error::protocol("token challenge", "no realm in WWW-Authenticate"))?;
        let what = format!("token from {realm}");
        let scopes: Vec<String> = Scope::merge(scopes.iter().cloned())
            .iter()
            .map(ToString::to_string)
            .collect();
        let received = Instant::now();
        let sent = match &self.credential {
            // An identity token is an OAuth2 refresh token (Docker's `identitytoken`).
            Some(c) if c.username == "<token>" => {
                let mut form: Vec<(&str, &str)> = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &c.secret),
                    ("client_id", "strata"),
                ];
                if let Some(service) = challenge.service() {
                    form.push(("service", service));
                }
                let joined = scopes.join(" ");
                if !joined.is_empty() {
                    form.push(("scope", &joined));
                }
                agent
                    .post(realm)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .send(strata_distribution::query::format_query(&form))
            }
            _ => {
                let mut req = agent.get(realm);
                if let Some(service) = challenge.service() {
                    req = req.query("service", service);
                }
                for scope in &scopes {
                    req = req.query("scope", scope);
                }
                if let Some(c) = &self.credential {
                    req = req.query("account", &c.username);
                }
                if let Some(basic) = self.basic() {
                    req = req.header("Authorization", &basic);
                }
                req.call()
            }
        };
        let resp = sent.map_err(|e| Error::Transport {
            what: what.clone(),
            source: Box::new(e),
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| Error::Transport {
                what: what.clone(),
                source: Box::new(e),
            })?;
        if status != 200 {
            let message = match status {
                401 => "unauthorized: incorrect username or password".to_owned(),
                _ => crate::client::status_message(status, &body),
            };
            return Err(Error::Status {
                what,
                status,
                code: None,
                message,
            });
        }
        let token = TokenResponse::from_slice(&body)?;
        let bearer = token
            .bearer()
            .ok_or_else(|| Error::protocol(&what, "the answer has no token"))?
            .to_owned();
        // A registry may claim any lifetime; a day at most is believed.
        let lifetime = Duration::from_secs(token.lifetime_secs().min(MAX_LIFETIME_SECS));
        let until = received
            .checked_add(
                lifetime
                    .saturating_sub(EXPIRY_MARGIN)
                    .max(Duration::from_secs(1)),
            )
            .unwrap_or(received);
        Ok((bearer, until))
    }
}
