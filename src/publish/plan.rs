//! A plan: one post a line, read from JSON Lines or CSV, every bad line kept as a typed error.

use super::error::{PlanError, PlanErrorKind};
use super::time::parse_when;
use crate::journal::IdempotencyKey;
use crate::model::{Asset, AssetKind, Channel, ChannelId, Link, NewPost, Service, When};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// The prefix of keys derived from a plan line.
const KEY_PREFIX: &str = "plan:";
/// The largest plan file read: far above any real plan (a line is at most a post's text and a
/// few URLs), so a wrong or hostile file is refused instead of filling memory.
const MAX_PLAN_BYTES: u64 = 64 << 20;
/// A byte order mark, which editors on Windows put before the first line.
const BOM: &str = "\u{feff}";

/// A channel as a plan names it: by id, or by network and name (`twitter:buffer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelRef {
    /// A channel id (the classic profile id).
    Id(ChannelId),
    /// A network and the channel's name or display name there.
    Named {
        /// The network.
        service: Service,
        /// The channel's name.
        name: String,
    },
}

impl ChannelRef {
    /// Reads `service:name` when the part before the colon is a known network, else an id.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        match text.split_once(':') {
            Some((service, name)) if !matches!(Service::parse(service), Service::Unknown(_)) => {
                Self::Named {
                    service: Service::parse(service),
                    name: name.trim().to_owned(),
                }
            }
            _ => Self::Id(ChannelId::new(text)),
        }
    }

    /// The account's channel this names.
    fn resolve(&self, channels: &[Channel]) -> Result<ChannelId, (PlanErrorKind, String)> {
        let found: Vec<&Channel> = match self {
            Self::Id(id) => channels.iter().filter(|c| &c.id == id).collect(),
            Self::Named { service, name } => channels
                .iter()
                .filter(|c| &c.service == service)
                .filter(|c| &c.name == name || c.display_name.as_deref() == Some(name.as_str()))
                .collect(),
        };
        match found.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err((
                PlanErrorKind::UnknownChannel,
                format!("channel {self} is not among the account's channels"),
            )),
            many => Err((
                PlanErrorKind::AmbiguousChannel,
                format!(
                    "channel {self} names {} channels ({}); use the channel's id",
                    many.len(),
                    many.iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

impl fmt::Display for ChannelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => f.write_str(id.as_str()),
            Self::Named { service, name } => write!(f, "{service}:{name}"),
        }
    }
}

/// One post of a plan, read and checked on its own (channels are resolved by the job).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PlanLine {
    /// The line (1-based) in the plan file.
    pub line: usize,
    /// The channels, as the plan names them.
    pub channels: Vec<ChannelRef>,
    /// The text.
    pub text: Option<String>,
    /// Media, with alt text.
    pub assets: Vec<Asset>,
    /// A link preview.
    pub link: Option<Link>,
    /// When it publishes; `None` when the line gives no time (queued, or staggered by the job).
    pub when: Option<When>,
    /// The line's idempotency key: the one given, or derived from the plan and the line.
    pub key: IdempotencyKey,
}

impl PlanLine {
    /// The channel ids this line names, each looked up among the account's channels, each
    /// once: a channel named twice (by id and by name) gets one post, not two.
    pub fn resolve(&self, channels: &[Channel]) -> Result<Vec<ChannelId>, PlanError> {
        let mut ids: Vec<ChannelId> = Vec::with_capacity(self.channels.len());
        for channel in &self.channels {
            let id = channel
                .resolve(channels)
                .map_err(|(kind, message)| PlanError::new(self.line, kind, message))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// The post to create on `channel_ids`, publishing `when`, under the line's key.
    pub fn new_post(&self, channel_ids: Vec<ChannelId>, when: When) -> NewPost {
        let mut post = NewPost::default()
            .channels(channel_ids)
            .when(when)
            .idempotency_key(self.key.clone());
        post.text = self.text.clone();
        post.assets = self.assets.clone();
        post.link = self.link.clone();
        post
    }
}

/// A plan file read: its good lines, and a typed error for every bad one.
///
/// ```
/// use buffer_bridge::publish::{Plan, PlanErrorKind};
///
/// let plan = Plan::parse_jsonl(
///     "launch.jsonl",
///     r#"{"channels": ["twitter:buffer"], "text": "Launch day!", "when": "2026-12-02 09:00 Europe/Berlin"}
/// {"channels": [], "text": "no channel"}"#,
/// );
/// assert_eq!(plan.lines().len(), 1);
/// assert_eq!(plan.errors()[0].line, 2);
/// assert_eq!(plan.errors()[0].kind, PlanErrorKind::NoChannels);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    source: String,
    lines: Vec<PlanLine>,
    errors: Vec<PlanError>,
}

impl Plan {
    /// Reads a plan file: CSV when its name ends in `.csv`, JSON Lines otherwise. Keys derived
    /// from its lines include the file's canonical path, so two plans never share a key and
    /// one plan named two ways (`dir/../plan.jsonl`, a symlink) is still one plan. A line that
    /// is not UTF-8 is that line's error; a file over 64 MiB is refused, not read whole.
    pub fn read(path: impl AsRef<Path>) -> crate::Result<Self> {
        use std::io::Read;
        let path = path.as_ref();
        let cannot = |error: &dyn fmt::Display| {
            crate::Error::invalid_input(format!("cannot read the plan {}: {error}", path.display()))
        };
        let file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
        let mut bytes = Vec::new();
        file.take(MAX_PLAN_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| cannot(&e))?;
        if bytes.len() as u64 > MAX_PLAN_BYTES {
            return Err(cannot(&format!(
                "it is larger than {} MiB; split it into several plans",
                MAX_PLAN_BYTES >> 20
            )));
        }
        let source = Self::source_of(path);
        let is_csv = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
        Ok(if is_csv {
            Self::csv(&source, &bytes)
        } else {
            Self::jsonl(&source, &bytes)
        })
    }

    /// The path as keys name it: canonical where the file exists, else absolute.
    fn source_of(path: &Path) -> String {
        std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.to_owned())
            .to_string_lossy()
            .into_owned()
    }

    /// JSON Lines from bytes: a line that is not UTF-8 is a syntax error on that line.
    fn jsonl(source: &str, bytes: &[u8]) -> Self {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Self::parse_jsonl(source, text);
        }
        let mut bad = Vec::new();
        let text: Vec<&str> = bytes
            .split(|b| *b == b'\n')
            .enumerate()
            .map(|(index, line)| {
                std::str::from_utf8(line).unwrap_or_else(|_| {
                    bad.push(PlanError::new(
                        index + 1,
                        PlanErrorKind::Syntax,
                        "not a plan line: not UTF-8 text".to_owned(),
                    ));
                    ""
                })
            })
            .collect();
        let mut plan = Self::parse_jsonl(source, &text.join("\n"));
        plan.errors.extend(bad);
        plan.errors.sort_by_key(|error| error.line);
        plan
    }

    /// Reads JSON Lines: one object a line; blank lines are skipped. `source` names the plan in
    /// derived keys (its path).
    pub fn parse_jsonl(source: &str, text: &str) -> Self {
        let mut plan = Builder::new(source);
        let text = text.strip_prefix(BOM).unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            if raw.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Fields>(raw) {
                Ok(fields) => plan.add(line, raw.trim(), fields),
                Err(error) => {
                    let kind = if error.to_string().starts_with("unknown field") {
                        PlanErrorKind::UnknownField
                    } else {
                        PlanErrorKind::Syntax
                    };
                    plan.fail(PlanError::new(
                        line,
                        kind,
                        format!("not a plan line: {error}"),
                    ));
                }
            }
        }
        plan.finish()
    }

    /// Reads CSV with a header row. Columns: `channels` (separated by `;`), `text`, `when`,
    /// `link`, `key`, and per asset `asset`, `asset_type`, `asset_alt` (then `asset2`,
    /// `asset2_type`, `asset2_alt`, …). `source` names the plan in derived keys (its path).
    pub fn parse_csv(source: &str, text: &str) -> Self {
        Self::csv(source, text.as_bytes())
    }

    /// CSV from bytes: a record that is not UTF-8 is a syntax error on its line.
    fn csv(source: &str, bytes: &[u8]) -> Self {
        let mut plan = Builder::new(source);
        let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let headers = match reader.headers() {
            Ok(headers) => headers.clone(),
            Err(error) => {
                plan.fail(PlanError::new(1, PlanErrorKind::Syntax, error.to_string()));
                return plan.finish();
            }
        };
        let columns = match Columns::of(&headers) {
            Ok(columns) => columns,
            Err(message) => {
                plan.fail(PlanError::new(1, PlanErrorKind::UnknownField, message));
                return plan.finish();
            }
        };
        let mut records = reader.records().peekable();
        while let Some(record) = records.next() {
            match record {
                Ok(record) if records.peek().is_none() && left_open(bytes, &record) => {
                    let line = record.position().map_or(0, |p| p.line() as usize);
                    plan.fail(PlanError::new(
                        line,
                        PlanErrorKind::Syntax,
                        format!(
                            "a quoted field opened on line {line} is never closed: every line \
                             after it would be read as part of it; close the quote"
                        ),
                    ));
                }
                Ok(record) => {
                    let line = record.position().map_or(0, |p| p.line() as usize);
                    let raw = record.iter().collect::<Vec<_>>().join("\u{1f}");
                    plan.add(line, &raw, columns.fields(&record));
                }
                Err(error) => {
                    let line = error.position().map_or(0, |p| p.line() as usize);
                    plan.fail(PlanError::new(
                        line,
                        PlanErrorKind::Syntax,
                        error.to_string(),
                    ));
                }
            }
        }
        plan.finish()
    }

    /// Where the plan came from, as used in derived keys.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The lines that read well, in file order.
    pub fn lines(&self) -> &[PlanLine] {
        &self.lines
    }

    /// Every bad line, in file order.
    pub fn errors(&self) -> &[PlanError] {
        &self.errors
    }
}

/// One line as written, before checking.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    #[serde(default)]
    channels: Channels,
    text: Option<String>,
    #[serde(default)]
    assets: Vec<AssetFields>,
    link: Option<LinkFields>,
    when: Option<String>,
    key: Option<String>,
    metadata: Option<serde_json::Value>,
}

/// One channel or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Channels {
    One(String),
    Many(Vec<String>),
}

impl Default for Channels {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetFields {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: String,
    alt: Option<String>,
    title: Option<String>,
    thumbnail: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum LinkFields {
    Url(String),
    Full {
        url: String,
        title: Option<String>,
        description: Option<String>,
    },
}

/// Where each field is among a CSV file's columns.
struct Columns {
    channels: Option<usize>,
    text: Option<usize>,
    when: Option<usize>,
    link: Option<usize>,
    key: Option<usize>,
    /// Per asset: its URL, type and alt text columns.
    assets: Vec<[Option<usize>; 3]>,
}

impl Columns {
    fn of(headers: &csv::StringRecord) -> Result<Self, String> {
        let mut columns = Columns {
            channels: None,
            text: None,
            when: None,
            link: None,
            key: None,
            assets: Vec::new(),
        };
        let mut assets: std::collections::BTreeMap<u32, [Option<usize>; 3]> = Default::default();
        for (i, header) in headers.iter().enumerate() {
            let header = header.trim();
            let slot = match header {
                "channels" => &mut columns.channels,
                "text" => &mut columns.text,
                "when" => &mut columns.when,
                "link" => &mut columns.link,
                "key" => &mut columns.key,
                other => {
                    let Some((n, part)) = asset_column(other) else {
                        return Err(format!(
                            "unknown column {other:?}; the columns are channels, text, when, \
                             link, key, asset, asset_type, asset_alt (asset2, …)"
                        ));
                    };
                    &mut assets.entry(n).or_default()[part]
                }
            };
            *slot = Some(i);
        }
        columns.assets = assets.into_values().collect();
        Ok(columns)
    }

    fn fields(&self, record: &csv::StringRecord) -> Fields {
        let cell = |column: Option<usize>| {
            column
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Fields {
            channels: Channels::Many(
                cell(self.channels)
                    .map(|all| all.split(';').map(|c| c.trim().to_owned()).collect())
                    .unwrap_or_default(),
            ),
            text: cell(self.text),
            assets: self
                .assets
                .iter()
                .filter_map(|[url, kind, alt]| {
                    Some(AssetFields {
                        url: cell(*url)?,
                        kind: cell(*kind),
                        alt: cell(*alt),
                        ..AssetFields::default()
                    })
                })
                .collect(),
            link: cell(self.link).map(LinkFields::Url),
            when: cell(self.when),
            key: cell(self.key),
            metadata: None,
        }
    }
}

/// Whether the file's last record is a quoted field left open to the end of the file, which
/// the csv crate accepts: it spans lines, and from its start the file has an odd number of
/// quotes (a closed quoted field has them in pairs).
fn left_open(bytes: &[u8], record: &csv::StringRecord) -> bool {
    let Some(start) = record.position().map(|p| p.byte() as usize) else {
        return false;
    };
    let rest = bytes.get(start..).unwrap_or_default();
    record.iter().any(|field| field.contains('\n'))
        && rest.iter().filter(|b| **b == b'"').count() % 2 == 1
}

/// `asset`, `asset_type`, `asset_alt`, `asset2`, … → (asset number, part).
fn asset_column(header: &str) -> Option<(u32, usize)> {
    let rest = header.strip_prefix("asset")?;
    let (number, part) = match rest.split_once('_') {
        Some((number, "type")) => (number, 1),
        Some((number, "alt")) => (number, 2),
        Some(_) => return None,
        None => (rest, 0),
    };
    let number = if number.is_empty() {
        1
    } else {
        number.parse().ok()?
    };
    Some((number, part))
}

/// Collects lines and errors, and catches repeated keys.
struct Builder {
    plan: Plan,
    keys: HashMap<IdempotencyKey, usize>,
}

impl Builder {
    fn new(source: &str) -> Self {
        Self {
            plan: Plan {
                source: source.to_owned(),
                lines: Vec::new(),
                errors: Vec::new(),
            },
            keys: HashMap::new(),
        }
    }

    fn finish(self) -> Plan {
        self.plan
    }

    fn fail(&mut self, error: PlanError) {
        self.plan.errors.push(error);
    }

    fn add(&mut self, line: usize, raw: &str, fields: Fields) {
        match self.check(line, raw, fields) {
            Ok(checked) => match self.keys.get(&checked.key) {
                Some(first) => self.fail(PlanError::new(
                    line,
                    PlanErrorKind::RepeatedKey,
                    format!(
                        "line {line} has the same key as line {first} ({}); give each line its own key",
                        checked.key
                    ),
                )),
                None => {
                    self.keys.insert(checked.key.clone(), line);
                    self.plan.lines.push(checked);
                }
            },
            Err((kind, message)) => self.fail(PlanError::new(line, kind, message)),
        }
    }

    fn check(
        &self,
        line: usize,
        raw: &str,
        fields: Fields,
    ) -> Result<PlanLine, (PlanErrorKind, String)> {
        if fields.metadata.is_some() {
            return Err((
                PlanErrorKind::Metadata,
                "per-network metadata is not supported yet: buffer-bridge's model cannot carry \
                 it; drop the field, or create this post in Buffer"
                    .to_owned(),
            ));
        }
        let channels: Vec<ChannelRef> = match fields.channels {
            Channels::One(one) => vec![one],
            Channels::Many(many) => many,
        }
        .iter()
        .filter(|c| !c.trim().is_empty())
        .map(|c| ChannelRef::parse(c))
        .collect();
        if channels.is_empty() {
            return Err((
                PlanErrorKind::NoChannels,
                "no channel: give channels by id or as service:name".to_owned(),
            ));
        }
        let text = fields.text.filter(|t| !t.trim().is_empty());
        let assets = fields
            .assets
            .into_iter()
            .map(asset)
            .collect::<Result<Vec<_>, _>>()?;
        if text.is_none() && assets.is_empty() {
            return Err((
                PlanErrorKind::NoContent,
                "neither text nor media: every network refuses an empty post".to_owned(),
            ));
        }
        let link = fields.link.map(link).transpose()?;
        let when = fields.when.as_deref().map(parse_when).transpose()?;
        let key = match fields.key {
            Some(key) => IdempotencyKey::new(key)
                .map_err(|error| (PlanErrorKind::BadKey, error.message()))?,
            None => derived_key(&self.plan.source, raw),
        };
        Ok(PlanLine {
            line,
            channels,
            text,
            assets,
            link,
            when,
            key,
        })
    }
}

fn asset(fields: AssetFields) -> Result<Asset, (PlanErrorKind, String)> {
    let url = absolute_url(&fields.url).map_err(|why| (PlanErrorKind::BadAsset, why))?;
    let kind = match fields.kind.as_deref() {
        None => AssetKind::Image,
        Some(kind) => match AssetKind::parse(kind) {
            AssetKind::Unknown(other) => {
                return Err((
                    PlanErrorKind::BadAsset,
                    format!("asset type {other:?} is none of image, video, document"),
                ));
            }
            known => known,
        },
    };
    let mut asset = match kind {
        AssetKind::Video => Asset::video(url),
        AssetKind::Document => Asset::document(
            url,
            fields.title.clone().unwrap_or_default(),
            fields.thumbnail.clone().unwrap_or_default(),
        ),
        _ => Asset::image(url),
    };
    if let Some(alt) = fields.alt {
        asset = asset.with_alt_text(alt);
    }
    if let Some(thumbnail) = fields.thumbnail {
        asset = asset.with_thumbnail(thumbnail);
    }
    asset.title = fields.title.or(asset.title);
    Ok(asset)
}

fn link(fields: LinkFields) -> Result<Link, (PlanErrorKind, String)> {
    let (url, title, description) = match fields {
        LinkFields::Url(url) => (url, None, None),
        LinkFields::Full {
            url,
            title,
            description,
        } => (url, title, description),
    };
    let mut link = Link::new(absolute_url(&url).map_err(|why| (PlanErrorKind::BadLink, why))?);
    link.title = title;
    link.description = description;
    Ok(link)
}

/// An absolute `http(s)` URL, or why not.
fn absolute_url(text: &str) -> Result<String, String> {
    match url::Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url.to_string()),
        Ok(url) => Err(format!(
            "{text:?} is a {} URL; Buffer fetches http(s) only",
            url.scheme()
        )),
        Err(error) => Err(format!("{text:?} is not an absolute URL: {error}")),
    }
}

/// The key of a line without one: the plan's source and the line's content, hashed, so a
/// rerun of the same plan finds each line's journal entry and an edited line is a new post.
fn derived_key(source: &str, raw: &str) -> IdempotencyKey {
    let mut hash = Sha256::new();
    for part in ["buffer-bridge/plan-line/v1", source, raw] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    let hex: String = hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    IdempotencyKey::new(format!("{KEY_PREFIX}{hex}")).expect("a plan key is well formed")
}
