//! [`SqliteJournal`]: the durable journal, one SQLite file that survives crashes and restarts.

use super::{
    Begun, Entry, FailedSlot, Hold, IdempotencyKey, Intent, Journal, Lease, SlotState, now, rules,
};
use crate::model::{ChannelId, Post, PostId};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The schema this version writes, kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

/// How long a call waits for another process's transaction on the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
    CREATE TABLE entries (
        key TEXT PRIMARY KEY NOT NULL,
        derived INTEGER NOT NULL,
        intent TEXT NOT NULL,           -- Intent as JSON
        updated_at INTEGER NOT NULL,    -- microseconds since the epoch
        holder TEXT,                    -- the lease's holder token, NULL when released
        expires_at INTEGER              -- the lease's end, microseconds
    );
    CREATE INDEX entries_by_update ON entries (updated_at);
    CREATE TABLE slots (
        key TEXT NOT NULL,
        slot INTEGER NOT NULL,
        state TEXT NOT NULL,            -- pending, created, failed, unknown
        post_id TEXT,                   -- the created post's id
        detail TEXT,                    -- the Post or FailedSlot as JSON
        PRIMARY KEY (key, slot)
    );
    CREATE UNIQUE INDEX slots_by_post ON slots (post_id) WHERE post_id IS NOT NULL;
    CREATE TABLE snapshots (
        key TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        post_ids TEXT NOT NULL,         -- JSON array of ids
        PRIMARY KEY (key, channel_id)
    );
";

/// A journal in a SQLite file: every call is one transaction, committed durably (WAL,
/// `synchronous=FULL`) before it returns, so a process killed at any point loses nothing that a
/// call had returned, and the next process to open the file sees it all. Processes may share
/// the file: `begin` and `record` take SQLite's write lock (`BEGIN IMMEDIATE`), so two never
/// both take a key.
///
/// Calls run on tokio's blocking pool, so they need a tokio runtime. Clones share one
/// connection.
///
/// ```no_run
/// use buffer_bridge::journal::SqliteJournal;
///
/// let journal = SqliteJournal::open("/var/lib/my-app/buffer-journal.sqlite")?;
/// # Ok::<(), buffer_bridge::Error>(())
/// ```
#[derive(Clone)]
pub struct SqliteJournal {
    connection: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteJournal")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteJournal {
    /// Opens (creating if needed) the journal file at `path`. Refuses a file written by a
    /// newer buffer-bridge.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let connection = Connection::open(path)
            .map_err(|e| storage(format!("cannot open {}", path.display()), e))?;
        Self::prepare(connection, Some(path.to_owned()))
    }

    /// A journal in memory, gone when dropped: for tests of code that takes a SQLite journal.
    pub fn open_in_memory() -> Result<Self> {
        let connection = Connection::open_in_memory()
            .map_err(|e| storage("cannot open an in-memory database", e))?;
        Self::prepare(connection, None)
    }

    fn prepare(mut connection: Connection, path: Option<PathBuf>) -> Result<Self> {
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| storage("cannot set the busy timeout", e))?;
        // WAL keeps readers off the writers' way; FULL syncs every commit, so a commit that
        // returned survives a power loss as well as a killed process. (In memory the mode
        // stays "memory".)
        connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(|e| storage("cannot switch to WAL", e))?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| storage("cannot set synchronous=FULL", e))?;
        let transaction = write(&mut connection)?;
        let version: i64 = transaction
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| storage("cannot read the schema version", e))?;
        match version {
            0 => {
                transaction
                    .execute_batch(SCHEMA)
                    .map_err(|e| storage("cannot create the schema", e))?;
                transaction
                    .pragma_update(None, "user_version", SCHEMA_VERSION)
                    .map_err(|e| storage("cannot set the schema version", e))?;
            }
            SCHEMA_VERSION => {}
            newer => {
                return Err(Error::journal(
                    format!(
                        "the journal file has schema version {newer}, newer than this buffer-bridge \
                         understands ({SCHEMA_VERSION}); use a newer buffer-bridge or another file"
                    ),
                    None,
                ));
            }
        }
        commit(transaction)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            path,
        })
    }

    /// Runs `work` on the connection on tokio's blocking pool. The call completes even if the
    /// caller's future is dropped.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic inside `work` rolled its transaction back while unwinding, so the
            // connection is sound even if the lock was poisoned.
            let mut connection = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut connection)
        })
        .await
        .map_err(|e| Error::journal(format!("the journal's worker stopped: {e}"), None))?
    }
}

/// A storage failure, with SQLite's error as its source.
fn storage(what: impl fmt::Display, error: rusqlite::Error) -> Error {
    Error::journal(format!("{what}: {error}"), Some(Arc::new(error)))
}

/// A stored value that cannot be read back.
fn unreadable(what: impl fmt::Display, error: impl fmt::Display) -> Error {
    Error::journal(format!("{what} cannot be read: {error}"), None)
}

/// A transaction that holds the write lock from its start, so what it reads cannot change
/// before it writes, in this process or another.
fn write(connection: &mut Connection) -> Result<Transaction<'_>> {
    connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| storage("cannot start a write transaction", e))
}

/// A read transaction: one consistent view across several queries.
fn read(connection: &mut Connection) -> Result<Transaction<'_>> {
    connection
        .transaction_with_behavior(TransactionBehavior::Deferred)
        .map_err(|e| storage("cannot start a read transaction", e))
}

fn commit(transaction: Transaction<'_>) -> Result<()> {
    transaction
        .commit()
        .map_err(|e| storage("cannot commit", e))
}

fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

fn time(micros: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| unreadable("a stored time", format!("{micros} is out of range")))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::journal(format!("cannot encode a record: {e}"), None))
}

/// Who holds `key`, if it exists: `None` when the key is new, `Some(None)` when no one holds it.
fn hold_of(transaction: &Transaction<'_>, key: &IdempotencyKey) -> Result<Option<Option<Hold>>> {
    let row: Option<(Option<String>, Option<i64>)> = transaction
        .query_row(
            "SELECT holder, expires_at FROM entries WHERE key = ?1",
            [key.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(|e| storage("cannot read a lease", e))?;
    row.map(|(holder, expires_at)| match (holder, expires_at) {
        (Some(holder), Some(expires_at)) => Ok(Some(Hold {
            holder,
            expires_at: time(expires_at)?,
        })),
        _ => Ok(None),
    })
    .transpose()
}

/// Fails unless `lease` is the key's live lease.
fn check_lease(transaction: &Transaction<'_>, lease: &Lease, now: DateTime<Utc>) -> Result<()> {
    let hold = hold_of(transaction, lease.key())?.flatten();
    if rules::holds(lease, hold.as_ref(), now) {
        Ok(())
    } else {
        Err(rules::lease_lost(lease))
    }
}

/// Which key and slot recorded `post` as created.
fn claim_of(connection: &Connection, post: &PostId) -> Result<Option<(IdempotencyKey, usize)>> {
    let claim: Option<(String, i64)> = connection
        .query_row(
            "SELECT key, slot FROM slots WHERE post_id = ?1",
            [post.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(|e| storage("cannot read a claim", e))?;
    claim
        .map(|(key, slot)| {
            Ok((
                IdempotencyKey::new(key).map_err(|e| unreadable("a claim", e))?,
                usize::try_from(slot).map_err(|e| unreadable("a claim", e))?,
            ))
        })
        .transpose()
}

fn set_hold(transaction: &Transaction<'_>, lease: &Lease) -> Result<()> {
    transaction
        .execute(
            "UPDATE entries SET holder = ?2, expires_at = ?3 WHERE key = ?1",
            params![
                lease.key().as_str(),
                lease.holder(),
                micros(lease.expires_at())
            ],
        )
        .map_err(|e| storage("cannot write a lease", e))?;
    Ok(())
}

fn touch(transaction: &Transaction<'_>, key: &IdempotencyKey, now: DateTime<Utc>) -> Result<()> {
    transaction
        .execute(
            "UPDATE entries SET updated_at = ?2 WHERE key = ?1",
            params![key.as_str(), micros(now)],
        )
        .map_err(|e| storage("cannot write an entry", e))?;
    Ok(())
}

/// A slot's state as stored: its name, the created post's id, and its detail as JSON.
pub(crate) fn encode(state: &SlotState) -> Result<(&'static str, Option<&str>, Option<String>)> {
    Ok(match state {
        SlotState::Pending => ("pending", None, None),
        SlotState::Unknown => ("unknown", None, None),
        SlotState::Created(post) => ("created", Some(post.id.as_str()), Some(json(post)?)),
        SlotState::Failed(failed) => ("failed", None, Some(json(failed)?)),
    })
}

/// A stored slot state. A state this version does not know (written by a newer one) reads as
/// [`SlotState::Unknown`]: nothing proves what became of the slot.
pub(crate) fn decode(state: &str, detail: Option<&str>) -> Result<SlotState> {
    let detail = |what| detail.ok_or_else(|| unreadable(what, "its detail is missing"));
    Ok(match state {
        "pending" => SlotState::Pending,
        "created" => SlotState::Created(Box::new(
            serde_json::from_str::<Post>(detail("a created post")?)
                .map_err(|e| unreadable("a created post", e))?,
        )),
        "failed" => SlotState::Failed(
            serde_json::from_str::<FailedSlot>(detail("a failure")?)
                .map_err(|e| unreadable("a failure", e))?,
        ),
        _ => SlotState::Unknown,
    })
}

fn load(transaction: &Transaction<'_>, key: &IdempotencyKey) -> Result<Option<Entry>> {
    let row: Option<(String, i64)> = transaction
        .query_row(
            "SELECT intent, updated_at FROM entries WHERE key = ?1",
            [key.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(|e| storage("cannot read an entry", e))?;
    let Some((intent, updated_at)) = row else {
        return Ok(None);
    };
    let intent: Intent =
        serde_json::from_str(&intent).map_err(|e| unreadable(format!("the intent of {key}"), e))?;
    let mut entry = Entry::new(intent, time(updated_at)?);

    let mut slots = transaction
        .prepare_cached("SELECT slot, state, detail FROM slots WHERE key = ?1 ORDER BY slot")
        .map_err(|e| storage("cannot read slots", e))?;
    let rows = slots
        .query_map([key.as_str()], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(|e| storage("cannot read slots", e))?;
    for row in rows {
        let (slot, state, detail) = row.map_err(|e| storage("cannot read a slot", e))?;
        let place = usize::try_from(slot)
            .ok()
            .and_then(|slot| entry.states.get_mut(slot))
            .ok_or_else(|| unreadable(format!("slot {slot} of {key}"), "it is out of range"))?;
        *place = decode(&state, detail.as_deref())?;
    }

    let mut snapshots = transaction
        .prepare_cached("SELECT channel_id, post_ids FROM snapshots WHERE key = ?1")
        .map_err(|e| storage("cannot read snapshots", e))?;
    let rows = snapshots
        .query_map([key.as_str()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(|e| storage("cannot read snapshots", e))?;
    for row in rows {
        let (channel, ids) = row.map_err(|e| storage("cannot read a snapshot", e))?;
        let ids: Vec<PostId> =
            serde_json::from_str(&ids).map_err(|e| unreadable("a snapshot", e))?;
        entry.snapshots.insert(ChannelId::new(channel), ids);
    }
    Ok(Some(entry))
}

fn insert(
    transaction: &Transaction<'_>,
    intent: &Intent,
    lease: &Lease,
    now: DateTime<Utc>,
) -> Result<()> {
    transaction
        .execute(
            "INSERT INTO entries (key, derived, intent, updated_at, holder, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                intent.key.as_str(),
                intent.key.is_derived(),
                json(intent)?,
                micros(now),
                lease.holder(),
                micros(lease.expires_at()),
            ],
        )
        .map_err(|e| storage("cannot write an entry", e))?;
    let mut slots = transaction
        .prepare_cached("INSERT INTO slots (key, slot, state) VALUES (?1, ?2, 'pending')")
        .map_err(|e| storage("cannot write slots", e))?;
    for slot in 0..intent.slots.len() {
        slots
            .execute(params![intent.key.as_str(), slot as i64])
            .map_err(|e| storage("cannot write a slot", e))?;
    }
    Ok(())
}

/// Deletes unheld entries last updated before `before` (derived keys only, or all).
fn prune(connection: &mut Connection, before: DateTime<Utc>, derived_only: bool) -> Result<u64> {
    let transaction = write(connection)?;
    let doomed = "SELECT key FROM entries
        WHERE updated_at < ?1 AND (?2 = 0 OR derived = 1)
        AND NOT (holder IS NOT NULL AND expires_at > ?3)";
    let arguments = params![micros(before), derived_only, micros(now())];
    for table in ["slots", "snapshots"] {
        transaction
            .execute(
                &format!("DELETE FROM {table} WHERE key IN ({doomed})"),
                arguments,
            )
            .map_err(|e| storage("cannot prune", e))?;
    }
    let pruned = transaction
        .execute(
            &format!("DELETE FROM entries WHERE key IN ({doomed})"),
            arguments,
        )
        .map_err(|e| storage("cannot prune", e))?;
    commit(transaction)?;
    Ok(pruned as u64)
}

#[async_trait]
impl Journal for SqliteJournal {
    async fn begin(&self, intent: &Intent, hold: Duration) -> Result<(Begun, Lease)> {
        let intent = intent.clone();
        self.run(move |connection| {
            let transaction = write(connection)?;
            let now = now();
            let lease = Lease::issue(intent.key.clone(), now, hold);
            let begun = match hold_of(&transaction, &intent.key)? {
                None => {
                    insert(&transaction, &intent, &lease, now)?;
                    Begun::New
                }
                Some(hold) => {
                    rules::may_take(&intent.key, hold.as_ref(), now)?;
                    set_hold(&transaction, &lease)?;
                    let entry = load(&transaction, &intent.key)?.ok_or_else(|| {
                        unreadable(format!("the entry of {}", intent.key), "it vanished")
                    })?;
                    Begun::Existing(entry)
                }
            };
            commit(transaction)?;
            Ok((begun, lease))
        })
        .await
    }

    async fn record(&self, lease: &Lease, slot: usize, state: &SlotState) -> Result<()> {
        let (lease, state) = (lease.clone(), state.clone());
        self.run(move |connection| {
            let transaction = write(connection)?;
            let now = now();
            check_lease(&transaction, &lease, now)?;
            let key = lease.key();
            let entry = load(&transaction, key)?.ok_or_else(|| rules::lease_lost(&lease))?;
            rules::slot_in(&entry.intent, slot)?;
            rules::may_change(key, slot, &entry.states[slot], &state)?;
            if let Some(post) = state.created() {
                let claim = claim_of(&transaction, &post.id)?;
                rules::unclaimed(&post.id, claim, key, slot)?;
            }
            let (name, post_id, detail) = encode(&state)?;
            transaction
                .execute(
                    "UPDATE slots SET state = ?3, post_id = ?4, detail = ?5 WHERE key = ?1 AND slot = ?2",
                    params![key.as_str(), slot as i64, name, post_id, detail],
                )
                .map_err(|e| storage("cannot write a slot", e))?;
            touch(&transaction, key, now)?;
            commit(transaction)
        })
        .await
    }

    async fn record_snapshot(
        &self,
        lease: &Lease,
        channel: &ChannelId,
        existing: &[PostId],
    ) -> Result<()> {
        let (lease, channel, ids) = (lease.clone(), channel.clone(), json(&existing)?);
        self.run(move |connection| {
            let transaction = write(connection)?;
            let now = now();
            check_lease(&transaction, &lease, now)?;
            let key = lease.key();
            let entry = load(&transaction, key)?.ok_or_else(|| rules::lease_lost(&lease))?;
            rules::channel_in(&entry.intent, &channel)?;
            transaction
                .execute(
                    "INSERT OR REPLACE INTO snapshots (key, channel_id, post_ids) VALUES (?1, ?2, ?3)",
                    params![key.as_str(), channel.as_str(), ids],
                )
                .map_err(|e| storage("cannot write a snapshot", e))?;
            touch(&transaction, key, now)?;
            commit(transaction)
        })
        .await
    }

    async fn renew(&self, lease: &Lease, hold: Duration) -> Result<Lease> {
        let lease = lease.clone();
        self.run(move |connection| {
            let transaction = write(connection)?;
            let now = now();
            check_lease(&transaction, &lease, now)?;
            let renewed = lease.extended(now, hold);
            set_hold(&transaction, &renewed)?;
            commit(transaction)?;
            Ok(renewed)
        })
        .await
    }

    async fn release(&self, lease: Lease) -> Result<()> {
        self.run(move |connection| {
            connection
                .execute(
                    "UPDATE entries SET holder = NULL, expires_at = NULL WHERE key = ?1 AND holder = ?2",
                    params![lease.key().as_str(), lease.holder()],
                )
                .map_err(|e| storage("cannot release a lease", e))?;
            Ok(())
        })
        .await
    }

    async fn entry(&self, key: &IdempotencyKey) -> Result<Option<Entry>> {
        let key = key.clone();
        self.run(move |connection| {
            let transaction = read(connection)?;
            let entry = load(&transaction, &key)?;
            commit(transaction)?;
            Ok(entry)
        })
        .await
    }

    async fn claimed_by(&self, post: &PostId) -> Result<Option<(IdempotencyKey, usize)>> {
        let post = post.clone();
        self.run(move |connection| claim_of(connection, &post))
            .await
    }

    async fn settling(&self, channel: &ChannelId) -> Result<Vec<Entry>> {
        let channel = channel.clone();
        self.run(move |connection| {
            let transaction = read(connection)?;
            let keys: Vec<String> = transaction
                .prepare_cached(
                    "SELECT DISTINCT slots.key FROM slots JOIN entries ON entries.key = slots.key \
                     WHERE slots.state IN ('pending', 'unknown') \
                     AND entries.holder IS NOT NULL AND entries.expires_at > ?1",
                )
                .and_then(|mut keys| keys.query_map([micros(now())], |row| row.get(0))?.collect())
                .map_err(|e| storage("cannot read the writes being settled", e))?;
            let mut found = Vec::new();
            for key in keys {
                let key = IdempotencyKey::new(key).map_err(|e| unreadable("a slot's key", e))?;
                if let Some(entry) = load(&transaction, &key)?
                    && entry.is_unsettled_on(&channel)
                {
                    found.push(entry);
                }
            }
            commit(transaction)?;
            Ok(found)
        })
        .await
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64> {
        self.run(move |connection| prune(connection, before, false))
            .await
    }

    async fn prune_derived(&self, before: DateTime<Utc>) -> Result<u64> {
        self.run(move |connection| prune(connection, before, true))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Operation;
    use crate::journal::SlotIntent;

    /// A journal file of its own for one test, removed (with its WAL files) when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "buffer-bridge-journal-{}-{name}.sqlite",
                std::process::id()
            ));
            let file = Self(path);
            file.remove();
            file
        }

        fn remove(&self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = self.0.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            self.remove();
        }
    }

    fn intent(key: &str, slots: u32) -> Intent {
        Intent::new(
            IdempotencyKey::new(key).unwrap(),
            Operation::CreatePost,
            "fingerprint",
            (0..slots)
                .map(|i| SlotIntent::new(0, format!("c{i}")))
                .collect(),
            Utc::now(),
        )
    }

    #[tokio::test]
    async fn a_reopened_file_has_every_committed_record() {
        let file = TempFile::new("reopen");
        let failed = SlotState::Failed(FailedSlot::new(
            crate::ErrorKind::LimitReached,
            "full",
            Some(1023),
        ));
        {
            let journal = SqliteJournal::open(&file.0).unwrap();
            let (_, lease) = journal
                .begin(&intent("k", 2), Duration::from_secs(60))
                .await
                .unwrap();
            journal.record(&lease, 1, &failed).await.unwrap();
        }
        let journal = SqliteJournal::open(&file.0).unwrap();
        let entry = journal
            .entry(&IdempotencyKey::new("k").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.states, [SlotState::Pending, failed]);
        let mode: String = journal
            .run(|c| {
                c.query_row("PRAGMA journal_mode", [], |row| row.get(0))
                    .map_err(|e| storage("mode", e))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn a_file_from_a_newer_version_is_refused() {
        let file = TempFile::new("newer");
        drop(SqliteJournal::open(&file.0).unwrap());
        let connection = Connection::open(&file.0).unwrap();
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(connection);
        let error = SqliteJournal::open(&file.0).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Journal);
        assert!(error.to_string().contains("schema version 2"), "{error}");
    }

    #[tokio::test]
    async fn a_state_this_version_does_not_know_reads_as_unknown() {
        let journal = SqliteJournal::open_in_memory().unwrap();
        let key = IdempotencyKey::new("k").unwrap();
        journal
            .begin(&intent("k", 2), Duration::from_secs(60))
            .await
            .unwrap();
        journal
            .run(|c| {
                c.execute(
                    "UPDATE slots SET state = 'half_created', detail = '{}' WHERE slot = 0",
                    [],
                )
                .map_err(|e| storage("test", e))
            })
            .await
            .unwrap();
        let entry = journal.entry(&key).await.unwrap().unwrap();
        assert_eq!(entry.states, [SlotState::Unknown, SlotState::Pending]);
    }

    #[tokio::test]
    async fn a_created_slot_without_its_post_is_an_error_not_a_guess() {
        let journal = SqliteJournal::open_in_memory().unwrap();
        let key = IdempotencyKey::new("k").unwrap();
        journal
            .begin(&intent("k", 1), Duration::from_secs(60))
            .await
            .unwrap();
        journal
            .run(|c| {
                c.execute("UPDATE slots SET state = 'created'", [])
                    .map_err(|e| storage("test", e))
            })
            .await
            .unwrap();
        let error = journal.entry(&key).await.unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Journal);
        assert!(!error.is_transient());
    }
}
