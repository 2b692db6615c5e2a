//! The table of network rules: `rules/networks.json`, compiled in.
//!
//! The simulator reads its own copy of the same file (`sim/rules/networks.json`, checked equal by
//! `tests/preflight.rs`), so what the preflight predicts is what the simulator enforces, API by
//! API. Each rule and each network names its sources; [`Table::source`] spells them out.

use super::{ProblemKind, Severity};
use crate::backend::BackendKind;
use crate::model::{AssetKind, Service};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The file, as both crates ship it.
const NETWORKS_JSON: &str = include_str!("../../rules/networks.json");

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    // The file is part of the crate, not input: `table_reads` below proves it parses.
    serde_json::from_str(NETWORKS_JSON).expect("rules/networks.json is a valid rules table")
});

/// The network rules table, read once.
pub fn table() -> &'static Table {
    &TABLE
}

/// What each network accepts on each of Buffer's APIs, and where each fact comes from.
#[derive(Debug, Deserialize)]
#[non_exhaustive]
pub struct Table {
    /// Source ids, each with the document and section it points to.
    pub sources: BTreeMap<String, String>,
    /// The rules, each with its severity on each backend.
    pub rules: Vec<Rule>,
    /// The networks, each with its limits and requirements.
    pub networks: Vec<NetworkRules>,
}

impl Table {
    /// The rules of one network; `None` for a network the table does not know yet.
    pub fn network(&self, service: &Service) -> Option<&NetworkRules> {
        self.networks.iter().find(|n| &n.service == service)
    }

    /// The rule of one kind.
    pub fn rule(&self, kind: &ProblemKind) -> Option<&Rule> {
        self.rules.iter().find(|r| &r.kind == kind)
    }

    /// What a problem of `kind` is on `backend`: `None` where that backend takes it as it is.
    pub fn severity(&self, kind: &ProblemKind, backend: BackendKind) -> Option<Severity> {
        self.rule(kind).and_then(|rule| rule.severity(backend))
    }

    /// The text of a source id (`"gql-8.5"` → the section of the reference it names).
    pub fn source(&self, id: &str) -> Option<&str> {
        self.sources.get(id).map(String::as_str)
    }
}

/// One rule: what it is on each backend, and what the user meets when switching.
#[derive(Debug, Deserialize)]
#[non_exhaustive]
pub struct Rule {
    /// The problem this rule reports.
    pub kind: ProblemKind,
    /// What the rule is about, in a few words.
    pub subject: String,
    #[serde(deserialize_with = "severity")]
    rest: Option<Severity>,
    #[serde(deserialize_with = "severity")]
    graphql: Option<Severity>,
    /// The refusal's words, where the rule has one message for every network: Buffer's where
    /// recorded ("Text is required"), else the words the simulator answers with; `{limit}` and
    /// `{network}` stand for the network's. [`InvalidReason`](crate::error::InvalidReason)
    /// reads a refusal's reason from them.
    pub message: Option<String>,
    /// What a user meets on each API, in a few words (the README's "What changes when you
    /// switch" box is made of these).
    pub switch: Switch,
    /// Source ids (see [`Table::source`]).
    pub sources: Vec<String>,
}

impl Rule {
    /// The severity on `backend`; `None` where the backend takes it as it is.
    pub fn severity(&self, backend: BackendKind) -> Option<Severity> {
        match backend {
            BackendKind::ClassicRest => self.rest,
            BackendKind::GraphQl => self.graphql,
        }
    }
}

/// A rule's outcome on each API, in a few words.
#[derive(Debug, Deserialize)]
#[non_exhaustive]
pub struct Switch {
    /// On the classic API.
    pub rest: String,
    /// On GraphQL.
    pub graphql: String,
}

impl Switch {
    /// The words for `backend`.
    pub fn on(&self, backend: BackendKind) -> &str {
        match backend {
            BackendKind::ClassicRest => &self.rest,
            BackendKind::GraphQl => &self.graphql,
        }
    }
}

/// One network's limits and requirements.
#[derive(Debug, Deserialize)]
#[non_exhaustive]
pub struct NetworkRules {
    /// The network.
    pub service: Service,
    /// Its name, as people write it.
    pub name: String,
    /// The longest text it takes, in characters (Unicode scalar values; some networks weigh
    /// URLs or scripts differently, so a text right at the limit may still pass there).
    pub text_limit: usize,
    /// The media a post must carry, if the network requires any.
    pub media: Option<MediaRule>,
    /// The APIs on which a post to this network can carry a link preview.
    #[serde(deserialize_with = "backends")]
    pub link_preview: Vec<BackendKind>,
    /// Whether GraphQL takes a thread for this network (`metadata.<service>.thread`).
    pub thread: bool,
    /// What else to know about the network's rules.
    pub note: Option<String>,
    /// Per-network metadata an API requires on create.
    pub metadata: Vec<MetadataRule>,
    /// Source ids (see [`Table::source`]).
    pub sources: Vec<String>,
}

/// The media a network requires on every post.
#[derive(Debug, Deserialize)]
#[non_exhaustive]
pub struct MediaRule {
    /// Any one of these kinds will do.
    pub kinds: Vec<AssetKind>,
    /// Buffer's words when the media is missing.
    pub message: String,
}

/// Metadata an API requires on create for one network (GraphQL's `metadata.<key>`).
#[derive(Debug, Deserialize)]
#[non_exhaustive]
pub struct MetadataRule {
    /// The key under `metadata` (`instagram`, `google`, …).
    pub key: String,
    /// The fields under it that must be set.
    pub fields: Vec<String>,
    /// What they are, in words.
    pub what: String,
    /// Buffer's words when they are missing.
    pub message: String,
    /// The APIs that require them.
    #[serde(deserialize_with = "backends")]
    pub backends: Vec<BackendKind>,
}

fn severity<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Severity>, D::Error> {
    match String::deserialize(deserializer)?.as_str() {
        "error" => Ok(Some(Severity::Error)),
        "warning" => Ok(Some(Severity::Warning)),
        "ok" => Ok(None),
        other => Err(serde::de::Error::custom(format!(
            "severity {other:?} is not error, warning or ok"
        ))),
    }
}

fn backends<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<BackendKind>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|name| {
            BackendKind::parse(name).ok_or_else(|| {
                serde::de::Error::custom(format!("{name:?} is not a backend (rest or graphql)"))
            })
        })
        .collect()
}

/// The README's "What changes when you switch" box: each rule whose outcome differs between
/// the two APIs, with the networks it concerns. Kept equal to the README by a test.
#[cfg(test)]
fn what_changes(table: &Table) -> String {
    use BackendKind::{ClassicRest as Rest, GraphQl};
    // (what, classic API, GraphQL) → networks, in the table's order.
    let mut rows: Vec<((String, String, String), Vec<String>)> = Vec::new();
    let mut add = |what: &str, on: &dyn Fn(BackendKind) -> bool, rule: &Rule, network: &str| {
        let cell = |backend| match on(backend) {
            true => rule.switch.on(backend).to_owned(),
            false => "—".to_owned(),
        };
        let key = (what.to_owned(), cell(Rest), cell(GraphQl));
        if key.1 == key.2 {
            return;
        }
        match rows.iter_mut().find(|(k, _)| *k == key) {
            Some((_, networks)) => networks.push(network.to_owned()),
            None => rows.push((key, vec![network.to_owned()])),
        }
    };
    for rule in &table.rules {
        for network in &table.networks {
            let name = network.name.as_str();
            match rule.kind {
                ProblemKind::NoLinkPreview => {
                    add(
                        &rule.subject,
                        &|b| !network.link_preview.contains(&b),
                        rule,
                        name,
                    );
                }
                // Only where a preview can be sent at all; elsewhere it is the row above.
                ProblemKind::LinkWithMedia => {
                    if !network.link_preview.is_empty() {
                        let previews = |b| network.link_preview.contains(&b);
                        add(&rule.subject, &previews, rule, name);
                    }
                }
                ProblemKind::MetadataMissing => {
                    for metadata in &network.metadata {
                        add(
                            &metadata.what,
                            &|b| metadata.backends.contains(&b),
                            rule,
                            name,
                        );
                    }
                }
                _ => add(&rule.subject, &|b| rule.severity(b).is_some(), rule, name),
            }
        }
    }
    let mut out = String::from("| what | networks | classic API | GraphQL |\n|---|---|---|---|\n");
    for ((what, rest, graphql), networks) in rows {
        let networks = match networks.len() == table.networks.len() {
            true => "every network".to_owned(),
            false => networks.join(", "),
        };
        out.push_str(&format!("| {what} | {networks} | {rest} | {graphql} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_box_is_the_tables() {
        const BEGIN: &str = "<!-- what-changes:begin (generated from rules/networks.json) -->\n";
        const END: &str = "<!-- what-changes:end -->";
        let readme = include_str!("../../README.md");
        let expected = what_changes(table());
        let shown = readme
            .split_once(BEGIN)
            .and_then(|(_, rest)| rest.split_once(END))
            .map(|(shown, _)| shown);
        assert!(
            shown == Some(expected.as_str()),
            "README.md's \"What changes when you switch\" box differs from the rules table; \
             put this between its markers:\n{BEGIN}{expected}{END}"
        );
    }

    #[test]
    fn table_reads_and_every_source_it_cites_is_listed() {
        let table: Table = serde_json::from_str(NETWORKS_JSON).unwrap();
        let cited = table
            .rules
            .iter()
            .flat_map(|r| &r.sources)
            .chain(table.networks.iter().flat_map(|n| &n.sources));
        for id in cited {
            assert!(table.source(id).is_some(), "source {id:?} is not listed");
        }
        for rule in &table.rules {
            assert!(
                !matches!(rule.kind, ProblemKind::Other(_)),
                "the table has a rule the preflight does not check: {:?}",
                rule.kind
            );
        }
    }

    #[test]
    fn every_network_buffer_bridge_names_has_rules() {
        let known = [
            Service::Twitter,
            Service::Facebook,
            Service::Instagram,
            Service::Linkedin,
            Service::Pinterest,
            Service::Tiktok,
            Service::GoogleBusiness,
            Service::StartPage,
            Service::Mastodon,
            Service::Youtube,
            Service::Threads,
            Service::Bluesky,
        ];
        for service in &known {
            assert!(table().network(service).is_some(), "no rules for {service}");
        }
        assert_eq!(table().networks.len(), known.len());
    }
}
