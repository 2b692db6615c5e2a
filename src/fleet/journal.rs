//! [`RedisJournal`]: the journal of writes in Redis, shared by every process of a fleet.
//!
//! Each [`Journal`] call is one run of `journal.lua`, atomic in Redis, and applies the same
//! rules as the SQLite journal (`journal::rules`). Leases expire on Redis's clock, so a key
//! held by a live worker is sent by no other, whatever the workers' clocks say, and the key
//! of a worker that died is taken over once its lease ends, with everything recorded for it.

use super::Fleet;
use crate::journal::{
    Begun, Conflict, Entry, IdempotencyKey, Intent, Journal, Lease, MAX_HOLD, SlotState,
    decode_state, encode_state, rules,
};
use crate::model::{ChannelId, PostId};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

static SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("journal.lua")));

/// A [`Journal`] in Redis, shared by a fleet. Made by [`Fleet::journal`]; clones share the
/// connection.
///
/// What it keeps is as durable as the Redis it is in: with `appendonly yes` and
/// `appendfsync always`, every call that returned survives a Redis restart; a failover to a
/// replica may lose the last calls (see the fleet documentation).
#[derive(Clone)]
pub struct RedisJournal {
    fleet: Fleet,
    /// Entry keys are this and the idempotency key.
    entries: String,
    claims: String,
    updated: String,
    /// The derived keys by last update.
    derived: String,
    held: String,
}

impl fmt::Debug for RedisJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisJournal")
            .field("fleet", &self.fleet)
            .finish()
    }
}

/// A time the script gave, in microseconds.
fn time(micros: &str) -> Result<DateTime<Utc>> {
    micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(|| unreadable("a time", micros))
}

fn unreadable(what: &str, detail: impl fmt::Display) -> Error {
    Error::journal(format!("{what} in Redis cannot be read: {detail}"), None)
}

/// A hold in whole microseconds, at most [`MAX_HOLD`], as the lease counts it.
fn hold_micros(hold: Duration) -> String {
    hold.min(MAX_HOLD).as_micros().to_string()
}

/// An entry from its hash's fields.
fn entry_of(key: &IdempotencyKey, fields: &HashMap<&str, &str>) -> Result<Entry> {
    let intent = fields
        .get("intent")
        .ok_or_else(|| unreadable(&format!("the entry of {key}"), "its intent is missing"))?;
    let intent: Intent =
        serde_json::from_str(intent).map_err(|e| unreadable(&format!("the intent of {key}"), e))?;
    let updated = time(fields.get("updated").copied().unwrap_or_default())?;
    let mut entry = Entry::new(intent, updated);
    for (slot, place) in entry.states.iter_mut().enumerate() {
        if let Some(state) = fields.get(format!("s:{slot}").as_str()) {
            *place = decode_state(state, fields.get(format!("d:{slot}").as_str()).copied())?;
        }
    }
    for (field, ids) in fields {
        if let Some(channel) = field.strip_prefix("snap:") {
            let ids: Vec<PostId> =
                serde_json::from_str(ids).map_err(|e| unreadable("a snapshot", e))?;
            entry.snapshots.insert(ChannelId::new(channel), ids);
        }
    }
    Ok(entry)
}

/// Field-value pairs as a map.
fn pairs(flat: &[String]) -> HashMap<&str, &str> {
    flat.chunks_exact(2)
        .map(|pair| (pair[0].as_str(), pair[1].as_str()))
        .collect()
}

impl RedisJournal {
    pub(super) fn new(fleet: Fleet) -> Self {
        // One hash tag for every key of the journal, its prefix: the scripts touch an entry
        // and the claims together, which Redis Cluster allows only on one node; journals
        // under other prefixes land on other nodes.
        let base = fleet.key(&format!("journal:{{{}}}", fleet.prefix_name()));
        Self {
            entries: format!("{base}:entry:"),
            claims: format!("{base}:claims"),
            updated: format!("{base}:updated"),
            derived: format!("{base}:derived"),
            held: format!("{base}:held"),
            fleet,
        }
    }

    /// Runs one step on `key`'s entry (or on none).
    async fn run(
        &self,
        what: &str,
        key: Option<&IdempotencyKey>,
        args: &[&str],
    ) -> Result<Vec<String>> {
        let failure = |e: redis::RedisError| self.fleet.failure(what, &e);
        let mut connection = self.fleet.connection().await.map_err(failure)?;
        let entry = format!("{}{}", self.entries, key.map_or("", |k| k.as_str()));
        let mut invocation = SCRIPT.prepare_invoke();
        invocation
            .key(entry)
            .key(&self.claims)
            .key(&self.updated)
            .key(&self.held)
            .key(&self.derived)
            .arg(args[0])
            .arg(&self.entries)
            .arg(key.map_or("", |k| k.as_str()));
        for arg in &args[1..] {
            invocation.arg(*arg);
        }
        invocation
            .invoke_async(&mut connection)
            .await
            .map_err(failure)
    }

    /// Turns a refusal of the script into the journal's error; `Ok` answers pass.
    fn refused(
        &self,
        answer: Vec<String>,
        lease: &Lease,
        slot: usize,
        state: Option<&SlotState>,
    ) -> Result<Vec<String>> {
        let key = lease.key();
        match answer.first().map(String::as_str) {
            Some("ok") => Ok(answer),
            Some("lost") => Err(rules::lease_lost(lease)),
            Some("range") => Err(Error::invalid_input(format!(
                "slot {slot} is out of range: idempotency key {key} has {} slots",
                answer.get(1).map_or("?", String::as_str)
            ))),
            Some("channel") => Err(Error::invalid_input(format!(
                "the channel is not one of idempotency key {key}'s channels"
            ))),
            Some("created") => {
                let old = decode_state("created", answer.get(2).map(String::as_str))?;
                let new = state.cloned().unwrap_or(SlotState::Unknown);
                rules::may_change(key, slot, &old, &new)?;
                Err(unreadable("a created slot", "it changed under its lease"))
            }
            Some("claimed") => {
                let claim = answer.get(1).map(String::as_str).unwrap_or_default();
                let (by, by_key) = claim_of(claim)?;
                let post = state
                    .and_then(SlotState::created)
                    .map(|post| post.id.clone())
                    .unwrap_or_else(|| PostId::new(""));
                rules::unclaimed(&post, Some((by_key, by)), key, slot)?;
                Err(unreadable("a claim", claim))
            }
            other => Err(unreadable("an answer", other.unwrap_or("nothing"))),
        }
    }
}

/// A claim as stored: `slot:key`.
fn claim_of(claim: &str) -> Result<(usize, IdempotencyKey)> {
    let (slot, key) = claim
        .split_once(':')
        .ok_or_else(|| unreadable("a claim", claim))?;
    Ok((
        slot.parse().map_err(|e| unreadable("a claim", e))?,
        IdempotencyKey::new(key).map_err(|e| unreadable("a claim", e))?,
    ))
}

#[async_trait]
impl Journal for RedisJournal {
    async fn begin(&self, intent: &Intent, hold: Duration) -> Result<(Begun, Lease)> {
        // The holder token is this process's; the lease's times are Redis's.
        let lease = Lease::issue(intent.key.clone(), Utc::now(), hold);
        let json = serde_json::to_string(intent)
            .map_err(|e| Error::journal(format!("cannot encode an intent: {e}"), None))?;
        let slots = intent.slots.len().to_string();
        let hold_us = hold_micros(hold);
        let mut args = vec![
            "begin",
            json.as_str(),
            if intent.key.is_derived() { "1" } else { "0" },
            lease.holder(),
            hold_us.as_str(),
            slots.as_str(),
        ];
        args.extend(intent.slots.iter().map(|slot| slot.channel_id.as_str()));
        let answer = self
            .run("cannot begin a write", Some(&intent.key), &args)
            .await?;
        match answer.first().map(String::as_str) {
            Some("new") => {
                let now = time(answer.get(1).map_or("", String::as_str))?;
                Ok((Begun::New, lease.extended(now, hold)))
            }
            Some("held") => Err(Conflict::Held {
                key: intent.key.clone(),
                until: time(answer.get(1).map_or("", String::as_str))?,
            }
            .into()),
            Some("existing") => {
                let now = time(answer.get(1).map_or("", String::as_str))?;
                let entry = entry_of(&intent.key, &pairs(&answer[2..]))?;
                Ok((Begun::Existing(entry), lease.extended(now, hold)))
            }
            other => Err(unreadable("an answer", other.unwrap_or("nothing"))),
        }
    }

    async fn record(&self, lease: &Lease, slot: usize, state: &SlotState) -> Result<()> {
        let (name, post, detail) = encode_state(state)?;
        let slot_text = slot.to_string();
        let answer = self
            .run(
                "cannot record a slot",
                Some(lease.key()),
                &[
                    "record",
                    lease.holder(),
                    &slot_text,
                    name,
                    post.unwrap_or_default(),
                    detail.as_deref().unwrap_or_default(),
                ],
            )
            .await?;
        self.refused(answer, lease, slot, Some(state)).map(drop)
    }

    async fn record_snapshot(
        &self,
        lease: &Lease,
        channel: &ChannelId,
        existing: &[PostId],
    ) -> Result<()> {
        let ids = serde_json::to_string(existing)
            .map_err(|e| Error::journal(format!("cannot encode a snapshot: {e}"), None))?;
        let answer = self
            .run(
                "cannot record a snapshot",
                Some(lease.key()),
                &["snapshot", lease.holder(), channel.as_str(), &ids],
            )
            .await?;
        match self.refused(answer, lease, 0, None) {
            Err(error) if error.kind() == crate::ErrorKind::InvalidInput => {
                Err(Error::invalid_input(format!(
                    "channel {channel} is not one of idempotency key {}'s channels",
                    lease.key()
                )))
            }
            other => other.map(drop),
        }
    }

    async fn renew(&self, lease: &Lease, hold: Duration) -> Result<Lease> {
        let hold_us = hold_micros(hold);
        let answer = self
            .run(
                "cannot renew a lease",
                Some(lease.key()),
                &["renew", lease.holder(), &hold_us],
            )
            .await?;
        let answer = self.refused(answer, lease, 0, None)?;
        let now = time(answer.get(1).map_or("", String::as_str))?;
        Ok(lease.extended(now, hold))
    }

    async fn release(&self, lease: Lease) -> Result<()> {
        self.run(
            "cannot release a lease",
            Some(lease.key()),
            &["release", lease.holder()],
        )
        .await
        .map(drop)
    }

    async fn entry(&self, key: &IdempotencyKey) -> Result<Option<Entry>> {
        let mut connection = self
            .fleet
            .connection()
            .await
            .map_err(|e| self.fleet.failure("cannot read an entry", &e))?;
        let fields: Vec<String> = redis::cmd("HGETALL")
            .arg(format!("{}{key}", self.entries))
            .query_async(&mut connection)
            .await
            .map_err(|e| self.fleet.failure("cannot read an entry", &e))?;
        if fields.is_empty() {
            return Ok(None);
        }
        entry_of(key, &pairs(&fields)).map(Some)
    }

    async fn claimed_by(&self, post: &PostId) -> Result<Option<(IdempotencyKey, usize)>> {
        let mut connection = self
            .fleet
            .connection()
            .await
            .map_err(|e| self.fleet.failure("cannot read a claim", &e))?;
        let claim: Option<String> = redis::cmd("HGET")
            .arg(&self.claims)
            .arg(post.as_str())
            .query_async(&mut connection)
            .await
            .map_err(|e| self.fleet.failure("cannot read a claim", &e))?;
        claim
            .map(|claim| claim_of(&claim).map(|(slot, key)| (key, slot)))
            .transpose()
    }

    async fn settling(&self, channel: &ChannelId) -> Result<Vec<Entry>> {
        let answer = self
            .run("cannot read the writes being settled", None, &["settling"])
            .await?;
        let mut found = Vec::new();
        let mut rest = answer.as_slice();
        while let [key, count, tail @ ..] = rest {
            let count: usize = count.parse().map_err(|e| unreadable("a held entry", e))?;
            let fields = tail
                .get(..count)
                .ok_or_else(|| unreadable("a held entry", "it is cut short"))?;
            let key = IdempotencyKey::new(key.as_str()).map_err(|e| unreadable("a key", e))?;
            let entry = entry_of(&key, &pairs(fields))?;
            if entry.is_unsettled_on(channel) {
                found.push(entry);
            }
            rest = &tail[count..];
        }
        Ok(found)
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64> {
        self.prune_where(before, false).await
    }

    async fn prune_derived(&self, before: DateTime<Utc>) -> Result<u64> {
        self.prune_where(before, true).await
    }
}

impl RedisJournal {
    async fn prune_where(&self, before: DateTime<Utc>, derived_only: bool) -> Result<u64> {
        let before = before.timestamp_micros().to_string();
        let answer = self
            .run(
                "cannot prune",
                None,
                &["prune", &before, if derived_only { "1" } else { "0" }],
            )
            .await?;
        answer
            .get(1)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| unreadable("a prune's count", "it is missing"))
    }
}
