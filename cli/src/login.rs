//! `login`, `logout`, `whoami`: an OAuth grant for GraphQL, kept in a token file, used by the
//! other commands when no API key is set.
//!
//! `login` runs the authorization code flow with PKCE: it listens on a loopback port for the
//! redirect, prints the URL to open, exchanges the code and stores the tokens (owner-only
//! file). With `--sim` it does the same against an in-process simulator, whose consent is
//! automatic, and keeps that grant too: each later command starts a simulator of its own that
//! takes on the grants of the last one (saved beside the login as digests, no usable token),
//! so `login --sim` then `channels` runs the same refresh and rotation as against Buffer.

use buffer_bridge::auth::private_files::{FileLock, owner_only_dir, replace_file};
use buffer_bridge::auth::{
    Consent, FileStore, KeyringStore, OAuth, RefreshingToken, TokenStore, Tokens,
};
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::{Backend, BackendExt};
use buffer_sim::Simulator;
use clap::Args;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The user key of the command line's own grant in the token store.
const USER: &str = "default";
/// The service name of the command line's entries in the operating system's credential store.
const KEYRING_SERVICE: &str = "buffer-bridge";
/// How long `login` waits for the browser to come back.
const WAIT_FOR_REDIRECT: Duration = Duration::from_secs(300);
/// The largest request head the redirect listener reads.
const MAX_HEAD: usize = 8 * 1024;
/// How long the redirect listener gives one connection to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a command waits for another one using the stored login to end.
const WAIT_FOR_LOCK: Duration = Duration::from_secs(60);

/// Options of `login`.
#[derive(Args)]
pub struct LoginArgs {
    /// The OAuth client id (Settings → API → App Clients); default BUFFER_CLIENT_ID.
    #[arg(long)]
    client_id: Option<String>,
    /// The authorization server; default BUFFER_OAUTH_ISSUER, else https://auth.buffer.com.
    #[arg(long)]
    issuer: Option<String>,
    /// The GraphQL API the grant is for; default BUFFER_GRAPHQL_URL, else Buffer's.
    #[arg(long)]
    graphql_url: Option<String>,
    /// The loopback port to receive the redirect on (registered with the client; 0: any).
    #[arg(long, default_value_t = 8910)]
    port: u16,
    /// Keep the tokens in the operating system's credential store (Keychain, Credential
    /// Manager, Linux keyutils: gone at the session's end) instead of a file.
    #[arg(long)]
    keyring: bool,
}

/// What a later command needs to refresh the grant (no secret: the tokens are in the store).
#[derive(Serialize, Deserialize)]
struct Login {
    issuer: String,
    client_id: String,
    redirect_uri: String,
    graphql_url: Option<String>,
    /// A login on the simulator: the issuer and API are whichever simulator the command
    /// starts, and its grants are in [`SIM_GRANTS`].
    #[serde(default)]
    simulator: bool,
    /// The tokens are in the operating system's credential store, not in a file.
    #[serde(default)]
    keyring: bool,
}

/// The file beside the login that carries a simulator's grants from one command to the next.
const SIM_GRANTS: &str = "simulator-grants.json";

/// Where the command line keeps its grant: `$BUFFER_BRIDGE_HOME`, else
/// `~/.config/buffer-bridge`.
fn home() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("BUFFER_BRIDGE_HOME") {
        return Ok(PathBuf::from(dir));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or("set BUFFER_BRIDGE_HOME: no home directory to keep the login in")?;
    Ok(config.join("buffer-bridge"))
}

/// The home, created owner-only if missing. An existing one open to others is made
/// owner-only, or refused when it is shared by design (sticky) or not ours: whoever may write
/// there may replace the login, and the issuer it names receives the refresh token.
fn own_home() -> Result<PathBuf, String> {
    let home = home()?;
    owner_only_dir(&home)
        .map_err(|e| format!("{e}: set BUFFER_BRIDGE_HOME to a directory of your own"))?;
    Ok(home)
}

/// Locks the home for this process alone, waiting (at most [`WAIT_FOR_LOCK`]) for a command
/// that holds it: a simulator login's commands would each save grants that lack the other's
/// rotation, and a keyring has no lock of its own against two refreshes of one grant.
async fn lock_home() -> Result<FileLock, String> {
    let path = own_home()?.join("lock");
    let failed = |e: std::io::Error| format!("could not lock {}: {e}", path.display());
    if let Some(lock) = FileLock::try_acquire(&path).map_err(failed)? {
        return Ok(lock);
    }
    eprintln!("buffer-bridge: waiting for another command that uses the login to end");
    FileLock::acquire(&path, WAIT_FOR_LOCK)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => "another buffer-bridge command (an `mcp` server?) has \
                                          been using the login for a minute; try again once \
                                          it ends"
                .to_owned(),
            _ => failed(e),
        })
}

/// The home locked while this command may use the stored login, when the login needs it: a
/// simulator login (each command's simulator saves grants the next one must see) or one kept
/// in the keyring (which has no lock of its own). A login in the token directory needs none:
/// its store keeps processes' refreshes apart, so `channels` runs while `mcp` serves.
pub async fn lock_login() -> Result<Option<FileLock>, String> {
    match Login::load() {
        Ok(Some(login)) if login.simulator || login.keyring => lock_home().await.map(Some),
        _ => Ok(None),
    }
}

/// Where the login's tokens are: the operating system's credential store, or an owner-only
/// file in the home directory.
fn store(keyring: bool) -> Result<Arc<dyn TokenStore>, String> {
    Ok(match keyring {
        true => Arc::new(KeyringStore::new(KEYRING_SERVICE)),
        false => Arc::new(FileStore::new(home()?.join("tokens")).map_err(|e| e.to_string())?),
    })
}

/// `buffer-bridge login`.
pub async fn login(args: &LoginArgs, sim: bool) -> Result<ExitCode, String> {
    own_home()?;
    let listener = TcpListener::bind(("127.0.0.1", if sim { 0 } else { args.port }))
        .await
        .map_err(|e| format!("could not listen for the redirect: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let simulator = match sim {
        true => Some(Simulator::start().await),
        false => None,
    };
    let (issuer, client_id, graphql_url) = match &simulator {
        Some(sim) => {
            let client = sim.oauth().register_client(&[&redirect_uri], false);
            (sim.issuer_url(), client.client_id, Some(sim.graphql_url()))
        }
        None => (
            setting(&args.issuer, "BUFFER_OAUTH_ISSUER")
                .unwrap_or_else(|| buffer_bridge::auth::DEFAULT_ISSUER.to_owned()),
            setting(&args.client_id, "BUFFER_CLIENT_ID")
                .ok_or("no client id: pass --client-id or set BUFFER_CLIENT_ID")?,
            setting(&args.graphql_url, "BUFFER_GRAPHQL_URL"),
        ),
    };
    let login = Login {
        issuer,
        client_id,
        redirect_uri,
        graphql_url,
        simulator: sim,
        keyring: args.keyring,
    };
    let oauth = login.oauth_on(simulator.as_ref())?;
    let request = oauth.authorize(&Consent::default());
    println!(
        "Open this URL to authorize buffer-bridge:\n\n  {}\n",
        request.url()
    );
    if simulator.is_some() {
        // The simulator consents at once: play the browser.
        let url = request.url().to_owned();
        tokio::spawn(async move {
            let _ = reqwest::get(url).await;
        });
    }
    let callback = receive_redirect(&listener, port, request.state());
    let redirect = tokio::time::timeout(WAIT_FOR_REDIRECT, callback)
        .await
        .map_err(|_| "no redirect came back within 5 minutes".to_owned())??;
    let code = request
        .code_from_redirect(&redirect)
        .map_err(|e| e.to_string())?;
    let _lock = lock_home().await?;
    let tokens = oauth
        .exchange(&request, &code)
        .await
        .map_err(|e| e.to_string())?;
    let store = store(login.keyring)?;
    store.save(USER, &tokens).await.map_err(|e| e.to_string())?;
    let account = login
        .backend(oauth, store)?
        .account()
        .await
        .map_err(|e| e.to_string())?;
    let who = account.email.unwrap_or(account.id.to_string());
    if let Some(sim) = &simulator {
        save_sim_grants(sim)?;
    }
    login.save()?;
    match sim {
        true => println!(
            "Logged in to the simulator as {who}; the other commands use this login, each on \
             a simulator of its own that honours it (its posts are not kept between commands)."
        ),
        false => println!("Logged in as {who}; the other commands use this login."),
    }
    Ok(ExitCode::SUCCESS)
}

/// The simulator a command starts for a stored simulator login, holding that login's grants;
/// `None` when the stored login (if any) is Buffer's.
pub async fn login_simulator() -> Result<Option<Arc<Simulator>>, String> {
    match Login::load()? {
        Some(login) if login.simulator => {
            let sim = Simulator::start().await;
            let path = home()?.join(SIM_GRANTS);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!("the simulator's grants are missing ({e}); run login --sim again")
            })?;
            let saved: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                format!("the simulator's grants are unreadable ({e}); run login --sim again")
            })?;
            sim.oauth()
                .load_grants(sim.store(), &saved)
                .map_err(|e| format!("{e}; run login --sim again"))?;
            Ok(Some(Arc::new(sim)))
        }
        _ => Ok(None),
    }
}

/// Saves the grants of the simulator a command ran on, refreshed and rotated tokens included,
/// for the next command's simulator, replaced whole (never written through a planted link).
pub fn save_sim_grants(sim: &Simulator) -> Result<(), String> {
    let text = sim.oauth().save_grants(sim.store()).to_string();
    replace_file(&home()?.join(SIM_GRANTS), text.as_bytes())
        .map_err(|e| format!("could not keep the simulator's grants: {e}"))
}

/// An option, else its environment variable.
fn setting(option: &Option<String>, variable: &str) -> Option<String> {
    option
        .clone()
        .or_else(|| std::env::var(variable).ok().filter(|v| !v.is_empty()))
}

/// `buffer-bridge logout`: revokes the grant and forgets it.
pub async fn logout() -> Result<ExitCode, String> {
    let _lock = lock_login().await?;
    let Some(login) = Login::load()? else {
        println!("Not logged in.");
        return Ok(ExitCode::SUCCESS);
    };
    let simulator = login_simulator().await.unwrap_or(None);
    let store = store(login.keyring)?;
    if let Some(tokens) = store.load(USER).await.map_err(|e| e.to_string())? {
        let revoked = match login.oauth_on(simulator.as_deref()) {
            Ok(oauth) => oauth.revoke(&tokens).await.map_err(|e| e.to_string()),
            Err(message) => Err(message),
        };
        if let Err(error) = revoked {
            eprintln!("buffer-bridge: the grant could not be revoked ({error}); forgetting it");
        }
    }
    store.remove(USER).await.map_err(|e| e.to_string())?;
    std::fs::remove_file(Login::path()?).map_err(|e| e.to_string())?;
    if login.simulator {
        let _ = std::fs::remove_file(home()?.join(SIM_GRANTS));
    }
    println!("Logged out.");
    Ok(ExitCode::SUCCESS)
}

/// `buffer-bridge whoami`: the account the backend in use speaks for.
pub async fn whoami(backend: Arc<dyn Backend>) -> Result<ExitCode, String> {
    let account = backend.account().await.map_err(|e| e.to_string())?;
    println!(
        "{} ({}, via {})",
        account.email.as_deref().unwrap_or("no e-mail"),
        account.id,
        backend.kind()
    );
    Ok(ExitCode::SUCCESS)
}

/// The GraphQL backend of the stored login, if there is one; a simulator login needs the
/// simulator [`login_simulator`] started.
pub fn stored_backend(
    simulator: Option<&Arc<Simulator>>,
) -> Result<Option<Arc<dyn Backend>>, String> {
    let Some(mut login) = Login::load()? else {
        return Ok(None);
    };
    let mut store = store(login.keyring)?;
    if login.simulator {
        let sim = simulator.ok_or(NO_SIMULATOR)?;
        login.graphql_url = Some(sim.graphql_url());
        store = Arc::new(SimulatorGrants {
            tokens: store,
            sim: Arc::clone(sim),
        });
    }
    let oauth = login.oauth_on(simulator.map(|sim| &**sim))?;
    login.backend(oauth, store).map(Some)
}

/// Why a simulator login cannot be used or revoked.
const NO_SIMULATOR: &str = "the login is the simulator's, and no simulator is running";

/// The token store of a simulator login: the simulator's grants are saved before the tokens
/// change, as a server records a rotation before it answers. A command killed after storing
/// a refresh leaves the next one a refresh token its simulator knows; killed between the two,
/// it leaves what a lost answer leaves with Buffer (the old token, spent).
#[derive(Debug)]
struct SimulatorGrants {
    tokens: Arc<dyn TokenStore>,
    sim: Arc<Simulator>,
}

impl SimulatorGrants {
    fn save_grants(&self) -> buffer_bridge::Result<()> {
        save_sim_grants(&self.sim)
            .map_err(|message| buffer_bridge::Error::token_store(message, None))
    }
}

#[async_trait::async_trait]
impl TokenStore for SimulatorGrants {
    async fn load(&self, user: &str) -> buffer_bridge::Result<Option<Tokens>> {
        self.tokens.load(user).await
    }

    async fn save(&self, user: &str, tokens: &Tokens) -> buffer_bridge::Result<()> {
        self.save_grants()?;
        self.tokens.save(user, tokens).await
    }

    async fn remove(&self, user: &str) -> buffer_bridge::Result<()> {
        self.save_grants()?;
        self.tokens.remove(user).await
    }
}

impl Login {
    fn path() -> Result<PathBuf, String> {
        Ok(home()?.join("login.json"))
    }

    /// The stored login; none without a home directory to keep one in.
    fn load() -> Result<Option<Self>, String> {
        let Ok(path) = Self::path() else {
            return Ok(None);
        };
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("the stored login is unreadable ({e}); run login again")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("could not read the stored login: {e}")),
        }
    }

    fn save(&self) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(Self::path()?, text).map_err(|e| format!("could not store the login: {e}"))
    }

    /// The OAuth client of this login; a simulator login's issuer is the running simulator
    /// (never the address its own simulator had: anything may listen there now).
    fn oauth_on(&self, simulator: Option<&Simulator>) -> Result<OAuth, String> {
        let issuer = match (self.simulator, simulator) {
            (true, Some(sim)) => sim.issuer_url(),
            (true, None) => return Err(NO_SIMULATOR.to_owned()),
            (false, _) => self.issuer.clone(),
        };
        OAuth::builder()
            .client_id(&self.client_id)
            .redirect_uri(&self.redirect_uri)
            .issuer(issuer)
            .build()
            .map_err(|e| e.to_string())
    }

    fn backend(
        &self,
        oauth: OAuth,
        store: Arc<dyn TokenStore>,
    ) -> Result<Arc<dyn Backend>, String> {
        let mut builder =
            GraphQl::builder().token_provider(Arc::new(RefreshingToken::new(oauth, store, USER)));
        if let Some(url) = &self.graphql_url {
            builder = builder.base_url(url);
        }
        Ok(Arc::new(builder.build().map_err(|e| e.to_string())?))
    }
}

/// Waits for the browser's request to `/callback` carrying this authorization's `state` and
/// answers it; returns its full URL. Other requests (a favicon, a redirect of another login, a
/// forged one) are answered with an error and the wait goes on: anyone on the machine can
/// reach the port, and none of them may end the login. Each connection is served on its own,
/// with [`HEAD_TIMEOUT`] for its whole head, so none (slow, idle, or one of many) holds up the
/// browser's; a failed accept (out of descriptors) is waited out, not taken as the end.
async fn receive_redirect(
    listener: &TcpListener,
    port: u16,
    state: &str,
) -> Result<String, String> {
    let (found, mut ours) = mpsc::channel(1);
    loop {
        tokio::select! {
            target = ours.recv() => {
                if let Some(target) = target {
                    return Ok(format!("http://127.0.0.1:{port}{target}"));
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let (found, state) = (found.clone(), state.to_owned());
                    tokio::spawn(async move {
                        if let Some(target) = answer_redirect(stream, &state).await {
                            let _ = found.send(target).await;
                        }
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            },
        }
    }
}

/// Reads one request head (at most [`MAX_HEAD`] bytes within [`HEAD_TIMEOUT`]) and answers
/// it; returns its target when it is the callback carrying `state`.
async fn answer_redirect(mut stream: TcpStream, state: &str) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + HEAD_TIMEOUT;
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(read)) if read > 0 => head.extend_from_slice(&buffer[..read]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("GET "))
        .and_then(|rest| rest.split(' ').next())
        .filter(|target| target.starts_with("/callback"));
    let ours = target.filter(|target| carries_state(target, state));
    let (status, page) = match (target, ours) {
        (_, Some(_)) => ("200 OK", "Authorized. You can close this window."),
        (Some(_), None) => (
            "400 Bad Request",
            "This is not the authorization being waited for.",
        ),
        (None, _) => ("404 Not Found", "Not here."),
    };
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = tokio::time::timeout(HEAD_TIMEOUT, stream.write_all(answer.as_bytes())).await;
    ours.map(str::to_owned)
}

/// Whether a callback target's query has `state` equal to `expected`.
fn carries_state(target: &str, expected: &str) -> bool {
    reqwest::Url::parse(&format!("http://127.0.0.1{target}")).is_ok_and(|url| {
        url.query_pairs()
            .any(|(name, value)| name == "state" && value == expected)
    })
}
