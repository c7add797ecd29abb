//! Putting a server together from a [`Config`]: storage, handlers, TLS,
//! htpasswd, the pull-through upstream, and a graceful stop on SIGINT or
//! SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Htpasswd;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::handlers::App;
use crate::http::{self, Server};
use crate::metrics::Metrics;
use crate::proxy::Upstream;
use crate::rbac::sqlite::SqliteAccounts;
use crate::rbac::{Accounts, Rbac};
use crate::repo::Registry;
use crate::storage::FsStorage;

/// How long requests in flight get to finish after a stop signal.
const GRACE: Duration = Duration::from_secs(30);

/// A bound server with its handler, ready to serve.
pub struct Prepared {
    server: Server,
    app: Arc<App>,
}

impl Prepared {
    /// Binds the address and opens everything the configuration names.
    pub fn new(config: &Config) -> Result<Prepared> {
        config.validate().map_err(Error::Config)?;
        let storage = Arc::new(FsStorage::new(&config.storage())?);
        let registry = Registry::new(storage, config.delete_enabled.unwrap_or(false));
        let htpasswd = config.htpasswd.as_deref().map(Htpasswd::open).transpose()?;
        let proxy = config
            .proxy_remote
            .as_deref()
            .map(Upstream::new)
            .transpose()?;
        let tls = match &config.tls {
            Some(t) => Some(http::tls_config(&t.cert, &t.key)?),
            None => None,
        };
        let rbac = if config.rbac_enabled() {
            let accounts = Arc::new(SqliteAccounts::open(&config.rbac_database())?);
            let admins = accounts
                .users()?
                .iter()
                .filter(|u| u.admin && !u.disabled)
                .count();
            if admins == 0 {
                tracing::warn!(
                    storage = %config.storage().display(),
                    "no system admin yet: add one with `strata registry user add NAME --admin`"
                );
            }
            let (settings, key) = config.rbac_settings();
            Some(Arc::new(Rbac::new(accounts, &key, settings)?))
        } else {
            None
        };
        let server = Server::bind(config.addr(), tls)?;
        Ok(Prepared {
            server,
            app: Arc::new(App {
                registry,
                htpasswd,
                metrics: Arc::new(Metrics::default()),
                proxy,
                rbac,
            }),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<std::net::SocketAddr> {
        self.server.local_addr()
    }

    /// A handle that stops the server gracefully.
    pub fn stopper(&self) -> http::Stopper {
        self.server.stopper()
    }

    /// Serves until [`http::Stopper::stop`] is called.
    pub fn serve(self) -> Result<()> {
        self.server.serve(self.app, GRACE)
    }

    /// Serves until SIGINT or SIGTERM, then lets requests in flight finish.
    pub fn serve_until_signalled(self) -> Result<()> {
        let stopper = self.stopper();
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ])
        .map_err(|e| Error::Internal(format!("signal handlers: {e}")))?;
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                tracing::info!(signal = sig, "stopping: finishing requests in flight");
                stopper.stop();
            }
        });
        self.serve()
    }
}
