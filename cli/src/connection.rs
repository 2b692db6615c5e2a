//! Where the commands get their backends: Buffer itself (settings from the environment or a
//! file), or an in-process simulator.

use crate::Api;
use buffer_bridge::config::{BackendChoice, BackendConfig};
use buffer_bridge::{Backend, BackendKind};
use buffer_sim::Simulator;
use std::path::Path;
use std::sync::Arc;

/// The settings to build backends from, and the simulator they point at, if any.
pub struct Connection {
    config: BackendConfig,
    sim: Option<Simulator>,
    /// The simulator of a stored `login --sim`, holding its grants, when GraphQL has no key.
    login_sim: Option<Arc<Simulator>>,
    /// The home locked while the stored login may be used (from reading it to handing its
    /// rotations on, in [`Drop`], which runs before this is released).
    _login_lock: Option<buffer_bridge::auth::private_files::FileLock>,
}

impl Connection {
    /// Starts the simulator (`--sim`), or reads the settings file or the environment.
    pub async fn open(sim: bool, config_file: Option<&Path>) -> Result<Self, String> {
        if sim {
            let sim = Simulator::start().await;
            let vars = [
                ("BUFFER_ACCESS_TOKEN", sim.access_token().to_string()),
                ("BUFFER_REST_URL", sim.rest_url().to_string()),
                ("BUFFER_API_KEY", sim.api_key().to_string()),
                ("BUFFER_GRAPHQL_URL", sim.graphql_url().to_string()),
            ];
            let config = BackendConfig::from_vars(vars).map_err(|e| e.to_string())?;
            return Ok(Self {
                config,
                sim: Some(sim),
                login_sim: None,
                _login_lock: None,
            });
        }
        let config = match config_file {
            Some(path) => BackendConfig::from_toml_file(path),
            None => BackendConfig::from_env(),
        }
        .map_err(|e| e.message())?;
        let (login_lock, login_sim) = match config.backend_of(BackendKind::GraphQl) {
            Ok(_) => (None, None),
            Err(_) => {
                let lock = crate::login::lock_login().await?;
                (lock, crate::login::login_simulator().await?)
            }
        };
        Ok(Self {
            config,
            sim: None,
            login_sim,
            _login_lock: login_lock,
        })
    }

    /// The backend for one API; GraphQL without an API key uses the grant of `login`.
    pub fn backend(&self, kind: BackendKind) -> Result<Arc<dyn Backend>, String> {
        let configured = self.config.backend_of(kind);
        if configured.is_err()
            && kind == BackendKind::GraphQl
            && self.sim.is_none()
            && let Some(stored) = crate::login::stored_backend(self.login_sim.as_ref())?
        {
            return Ok(stored);
        }
        configured.map_err(|error| {
            format!(
                "{}\n(or pass --sim to try the command on an in-process simulator)",
                error.message()
            )
        })
    }

    /// The backend a quick-look command asks: the one named, else the configured one, else
    /// GraphQL when its key is set, else the classic API when its token is.
    pub fn chosen(&self, api: Option<Api>) -> Result<Arc<dyn Backend>, String> {
        match api {
            Some(api) => self.backend(api.into()),
            None if self.config.backend.is_some() => (self.config.build())
                .map(|client| client.backend())
                .map_err(|error| error.message()),
            None => self.backend(BackendKind::GraphQl).or_else(|missing_key| {
                self.backend(BackendKind::ClassicRest)
                    .map_err(|_| missing_key)
            }),
        }
    }

    /// The write path a job publishes through: the configured backend (or the API named, else
    /// GraphQL when its key is set, else the classic API), with retries, pacing and its
    /// journal at `journal`, so that every create is journaled there.
    pub fn write_path(&self, api: Option<Api>, journal: &Path) -> Result<Arc<dyn Backend>, String> {
        if self.config.retry.enabled == Some(false) {
            return Err(
                "publish needs retries on: with retry.enabled = false nothing is \
                        journaled, and a rerun could post twice"
                    .to_owned(),
            );
        }
        let mut config = self.config.clone();
        config.journal.path = Some(journal.to_owned());
        config.backend = match api {
            Some(Api::Rest) => Some(BackendChoice::Rest),
            Some(Api::Graphql) => Some(BackendChoice::Graphql),
            None => config.backend.or_else(|| {
                let graphql = self.backend(BackendKind::GraphQl).is_ok();
                Some(if graphql {
                    BackendChoice::Graphql
                } else {
                    BackendChoice::Rest
                })
            }),
        };
        config
            .build()
            .map(|client| client.backend())
            .map_err(|error| error.message())
    }

    /// How many HTTP requests the simulator has served so far; `None` against Buffer itself,
    /// where nothing counts them.
    pub fn requests_served(&self) -> Option<usize> {
        self.sim.as_ref().map(|sim| sim.requests().len())
    }
}

/// However a command ends, the simulator of a `login --sim` hands its grants (rotated by a
/// refresh, or revoked) on to the next command's: a rotated refresh token left behind would be
/// presented again, and reuse revokes the grant.
impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(sim) = &self.login_sim
            && let Err(message) = crate::login::save_sim_grants(sim)
        {
            eprintln!("buffer-bridge: {message}");
        }
    }
}
