//! What each network accepts on each API, from the table buffer-bridge's preflight reads
//! (`rules/networks.json`; this crate keeps its own copy, checked equal to the library's by the
//! library's tests). A create is checked here before the store sees it, so a post the classic
//! API accepts and GraphQL refuses behaves that way on the simulator too, answered in each
//! API's recorded shape.
//!
//! Enforced here: the rules the table makes errors that a server can see (text limits, required
//! media, a link preview beside media, required metadata), and the link fields the classic API
//! ignores on networks without a preview. The store enforces the rest (empty posts, past due
//! times, duplicates, full queues). Warnings (media URLs Buffer cannot fetch) are accepted, as
//! Buffer accepts them.

use std::sync::LazyLock;

use serde_json::Value;

use crate::log::Api;
use crate::model::{Asset, AssetKind, Service};
use crate::store::{NewPost, SimError, State};

const NETWORKS_JSON: &str = include_str!("../rules/networks.json");

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    // Part of the crate, not input: the tests below prove it reads.
    Table::read(&serde_json::from_str(NETWORKS_JSON).unwrap_or(Value::Null))
        .expect("rules/networks.json is a valid rules table")
});

/// The rules the simulator checks, by their names in the table.
const TOO_LONG: &str = "too_long";
const MEDIA_REQUIRED: &str = "media_required";
const LINK_WITH_MEDIA: &str = "link_with_media";
const METADATA_MISSING: &str = "metadata_missing";

struct Table {
    /// Rule name → the APIs that refuse it, and Buffer's words where the rule has one message.
    rules: Vec<(String, Vec<Api>, Option<String>)>,
    networks: Vec<Network>,
}

struct Network {
    service: Service,
    name: String,
    text_limit: usize,
    /// Any one of these kinds, and Buffer's words when none is there.
    media: Option<(Vec<AssetKind>, String)>,
    link_preview: Vec<Api>,
    metadata: Vec<Metadata>,
}

/// `metadata.<key>.<fields>` that an API requires on create.
struct Metadata {
    key: String,
    fields: Vec<String>,
    message: String,
    apis: Vec<Api>,
}

fn api(name: &str) -> Option<Api> {
    match name {
        "rest" => Some(Api::Rest),
        "graphql" => Some(Api::GraphQl),
        _ => None,
    }
}

fn apis(value: &Value) -> Option<Vec<Api>> {
    value.as_array()?.iter().map(|v| api(v.as_str()?)).collect()
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

impl Table {
    fn read(value: &Value) -> Option<Table> {
        let rules = value["rules"]
            .as_array()?
            .iter()
            .map(|rule| {
                let refusing = ["rest", "graphql"]
                    .into_iter()
                    .filter(|name| rule[name] == "error")
                    .map(api)
                    .collect::<Option<Vec<Api>>>()?;
                Some((text(&rule["kind"])?, refusing, text(&rule["message"])))
            })
            .collect::<Option<Vec<_>>>()?;
        let networks = value["networks"]
            .as_array()?
            .iter()
            .map(Network::read)
            .collect::<Option<Vec<_>>>()?;
        Some(Table { rules, networks })
    }

    fn network(&self, service: Service) -> Option<&Network> {
        self.networks.iter().find(|n| n.service == service)
    }

    /// Whether `api` refuses what breaks `rule`, and Buffer's words for it if the table has them.
    fn refuses(&self, rule: &str, api: Api) -> Option<Option<&str>> {
        let (_, refusing, message) = self.rules.iter().find(|(name, ..)| name == rule)?;
        refusing.contains(&api).then_some(message.as_deref())
    }
}

impl Network {
    fn read(value: &Value) -> Option<Network> {
        let media = match &value["media"] {
            Value::Null => None,
            media => Some((
                media["kinds"]
                    .as_array()?
                    .iter()
                    .map(|kind| match kind.as_str()? {
                        "image" => Some(AssetKind::Image),
                        "video" => Some(AssetKind::Video),
                        "document" => Some(AssetKind::Document),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?,
                text(&media["message"])?,
            )),
        };
        let metadata = value["metadata"]
            .as_array()?
            .iter()
            .map(|m| {
                Some(Metadata {
                    key: text(&m["key"])?,
                    fields: m["fields"]
                        .as_array()?
                        .iter()
                        .map(text)
                        .collect::<Option<_>>()?,
                    message: text(&m["message"])?,
                    apis: apis(&m["backends"])?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Network {
            service: Service::parse(value["service"].as_str()?)?,
            name: text(&value["name"])?,
            text_limit: usize::try_from(value["text_limit"].as_u64()?).ok()?,
            media,
            link_preview: apis(&value["link_preview"])?,
            metadata,
        })
    }
}

/// The longest text `service` takes.
pub(crate) fn text_limit(service: Service) -> usize {
    TABLE.network(service).map_or(usize::MAX, |n| n.text_limit)
}

/// What a create carries, as the rules see it.
struct Draft<'a> {
    text: &'a str,
    media: Vec<AssetKind>,
    has_link: bool,
    /// GraphQL's `metadata` input (the classic API has none).
    metadata: Option<&'a Value>,
}

/// Every rule `draft` breaks on `api` for `network`, each in Buffer's words, the refusal that
/// Buffer's recorded answers put first coming first.
fn broken(api: Api, network: &Network, draft: &Draft<'_>) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    let length = draft.text.chars().count();
    if let Some(message) = TABLE.refuses(TOO_LONG, api)
        && length > network.text_limit
    {
        found.push((
            TOO_LONG,
            message
                .unwrap_or("Text is longer than {limit} characters, the limit of {network}")
                .replace("{limit}", &network.text_limit.to_string())
                .replace("{network}", &network.name),
        ));
    }
    if let Some((kinds, message)) = &network.media
        && TABLE.refuses(MEDIA_REQUIRED, api).is_some()
        && !draft.media.iter().any(|kind| kinds.contains(kind))
    {
        found.push((MEDIA_REQUIRED, message.clone()));
    }
    if let Some(message) = TABLE.refuses(LINK_WITH_MEDIA, api)
        && network.link_preview.contains(&api)
        && draft.has_link
        && !draft.media.is_empty()
    {
        found.push((
            LINK_WITH_MEDIA,
            message
                .unwrap_or("A link preview and media cannot go together")
                .to_owned(),
        ));
    }
    if TABLE.refuses(METADATA_MISSING, api).is_some() {
        for metadata in network.metadata.iter().filter(|m| m.apis.contains(&api)) {
            let given = draft.metadata.and_then(|m| m.get(&metadata.key));
            let complete = metadata
                .fields
                .iter()
                .all(|field| given.is_some_and(|g| !g[field.as_str()].is_null()));
            if !complete {
                found.push((METADATA_MISSING, metadata.message.clone()));
            }
        }
    }
    found
}

/// Checks a GraphQL `createPost` input against the rules of its channel's network. Buffer
/// answers every broken rule at once: `Invalid post: <first>, <second>`.
pub(crate) fn check_graphql_create(
    state: &State,
    account_id: &str,
    input: &Value,
) -> Result<(), SimError> {
    let channel_id = input["channelId"].as_str().unwrap_or_default();
    // An unknown channel is the store's to report.
    let Some(network) = state
        .channel_for(account_id, channel_id)
        .ok()
        .and_then(|channel| TABLE.network(channel.service))
    else {
        return Ok(());
    };
    let items = input["assets"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let kind_of = |item: &Value| {
        [
            ("image", AssetKind::Image),
            ("video", AssetKind::Video),
            ("document", AssetKind::Document),
        ]
        .into_iter()
        .find_map(|(key, kind)| item[key].is_object().then_some(kind))
    };
    let metadata = input.get("metadata").filter(|m| m.is_object());
    let has_attachment = metadata
        .and_then(Value::as_object)
        .is_some_and(|services| services.values().any(|s| s["linkAttachment"].is_object()));
    let draft = Draft {
        text: input["text"].as_str().unwrap_or_default(),
        media: items.iter().filter_map(kind_of).collect(),
        has_link: has_attachment || items.iter().any(|item| item["link"].is_object()),
        metadata,
    };
    let messages: Vec<String> = broken(Api::GraphQl, network, &draft)
        .into_iter()
        .map(|(_, message)| message)
        .collect();
    if messages.is_empty() {
        return Ok(());
    }
    Err(SimError::Invalid(format!(
        "Invalid post: {}",
        messages.join(", ")
    )))
}

/// Checks one channel's share of a classic `updates/create`. Link preview fields on a network
/// without previews ("Twitter will ignore the link, picture, title, and description
/// parameters") are kept on the update, as the recorded `create.json` on a Twitter profile
/// shows, and break no rule. The classic API answers one error code: the first broken rule's.
pub(crate) fn check_classic_create(state: &State, post: &mut NewPost) -> Result<(), SimError> {
    let Some(network) = state
        .channels
        .iter()
        .find(|c| c.id == post.channel_id)
        .and_then(|channel| TABLE.network(channel.service))
    else {
        return Ok(());
    };
    let draft = Draft {
        text: &post.text,
        media: media_kinds(&post.assets),
        has_link: network.link_preview.contains(&Api::Rest)
            && post.assets.iter().any(|a| a.kind == AssetKind::Link),
        metadata: None,
    };
    match broken(Api::Rest, network, &draft).into_iter().next() {
        None => Ok(()),
        Some((TOO_LONG, message)) => Err(SimError::OutOfBounds(message)),
        Some((_, message)) => Err(SimError::Invalid(message)),
    }
}

fn media_kinds(assets: &[Asset]) -> Vec<AssetKind> {
    assets
        .iter()
        .map(|a| a.kind)
        .filter(|kind| {
            matches!(
                kind,
                AssetKind::Image | AssetKind::Video | AssetKind::Document
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_with_every_network_the_simulator_has() {
        let value: Value = serde_json::from_str(NETWORKS_JSON).expect("JSON");
        let table = Table::read(&value).expect("a rules table");
        for service in Service::ALL {
            assert!(table.network(service).is_some(), "no rules for {service:?}");
        }
        for rule in [TOO_LONG, MEDIA_REQUIRED, LINK_WITH_MEDIA, METADATA_MISSING] {
            assert!(
                table.rules.iter().any(|(name, ..)| name == rule),
                "the table has no rule {rule}"
            );
        }
    }
}
