//! [`run`]: the monitor, all together: the store and its writer, the socket watcher, the
//! expiry warnings and the web server, until SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

use crate::config::Config;
use crate::counters::Counters;
use crate::dashboard::{router, Web};
use crate::expiry::warn_expiring;
use crate::policy::Enforcer;
use crate::store::{Store, StoreError};
use crate::watch::watch;
use crate::writer::{chain, Writer};

/// How often tokens are checked for expiry (each VM is warned at most once a day).
const EXPIRY_CHECK: Duration = Duration::from_secs(60);

/// Why the monitor stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The database could not be opened or migrated.
    #[error("cannot open the database {}", path.display())]
    Store {
        /// The database.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The socket directory could not be created, or the listener bound.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The database failed while running (see the `store-failed` line).
    #[error("the database failed; events can no longer be stored")]
    StoreFailed,
}

/// Runs the monitor with `config` until a signal, or a database failure. Prints
/// `vusbkey-monitor: listening on http://ADDR` once serving.
pub async fn run(config: Config) -> Result<(), DaemonError> {
    let config = Arc::new(config);
    std::fs::create_dir_all(&config.socket_dir).map_err(|source| DaemonError::Io {
        what: format!(
            "cannot create the socket directory {}",
            config.socket_dir.display()
        ),
        source,
    })?;
    if let Some(parent) = config
        .database
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|source| DaemonError::Io {
            what: format!("cannot create {}", parent.display()),
            source,
        })?;
    }
    let store_error = |source| DaemonError::Store {
        path: config.database.clone(),
        source,
    };
    let mut store = Store::open(&config.database).map_err(store_error)?;
    store.reset_connections().map_err(store_error)?;
    let writer = Writer::spawn(store);
    let counters = Arc::new(Counters::default());
    let enforcer = Enforcer::new(
        config.policy.clone(),
        config.socket_dir.clone(),
        writer.clone(),
    );

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| DaemonError::Io {
            what: format!("cannot listen on {}", config.listen),
            source,
        })?;
    let address = listener.local_addr().map_err(|source| DaemonError::Io {
        what: "no local address".into(),
        source,
    })?;
    let web = Web {
        database: config.database.clone(),
        counters: counters.clone(),
    };
    let server = tokio::spawn(async move { axum::serve(listener, router(web)).await });
    println!("vusbkey-monitor: listening on http://{address}");

    let watcher = tokio::spawn(watch(
        config.clone(),
        writer.clone(),
        enforcer.clone(),
        counters,
    ));
    let expiry = {
        let (config, writer, enforcer) = (config.clone(), writer.clone(), enforcer.clone());
        tokio::spawn(async move {
            loop {
                let days = config.policy.expiry_warning_days;
                if let Err(e) = warn_expiring(&config.database, days, &writer, &enforcer).await {
                    eprintln!("vusbkey-monitor: expiry-check-failed error={:?}", chain(&e));
                }
                tokio::time::sleep(EXPIRY_CHECK).await;
            }
        })
    };

    let signal_error = |source| DaemonError::Io {
        what: "cannot handle signals".into(),
        source,
    };
    let mut term = signal(SignalKind::terminate()).map_err(signal_error)?;
    let mut int = signal(SignalKind::interrupt()).map_err(signal_error)?;
    let result = tokio::select! {
        _ = term.recv() => Ok(()),
        _ = int.recv() => Ok(()),
        () = writer.closed() => Err(DaemonError::StoreFailed),
    };
    watcher.abort();
    expiry.abort();
    server.abort();
    result
}
