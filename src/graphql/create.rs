//! Multi-channel creates: one `createPost` per channel, sent as aliased fields of one document.
//!
//! The classic API creates a post on many profiles in one call; GraphQL takes one channel per
//! `createPost`. Sending N mutations would cost N requests of a 100-per-15-minutes budget, so
//! the channels go in batches of up to [`MAX_ALIASES`](super::MAX_ALIASES) aliased fields
//! (`p0: createPost(input: $i0) { ...PostActionFields }`), written at run time from the same
//! fragments the single `CreatePost` document uses. Each alias decodes with the generated
//! `createPost` payload type, and each channel gets its own outcome: a refused channel, a
//! failed alias or a failed request is reported for exactly the channels it concerns.

use super::operations::create_post::{self, AssetInput, CreatePostInput};
use super::operations::fragments;
use super::wire::{MutationField, Reply};
use super::{GraphQl, inputs, payload};
use crate::model::{ChannelId, ChannelOutcome, ChannelResult, CreateOutcome, NewPost};
use crate::{Error, ErrorKind, Result};
use serde_json::{Map, Value};
use std::fmt::Write;

/// The name of the batched operation.
const BATCH_OPERATION: &str = "CreatePosts";

/// A request for some channels' `createPost`: the document, its variables, and the response
/// field of each channel, in order.
#[derive(Debug)]
pub(super) struct Batch {
    pub document: String,
    pub operation_name: &'static str,
    pub variables: Map<String, Value>,
    pub fields: Vec<String>,
}

impl Batch {
    /// One channel uses the `CreatePost` document itself; several, aliased fields.
    pub fn new(inputs: &[&CreatePostInput]) -> Result<Self> {
        let value = |input: &&CreatePostInput| {
            serde_json::to_value(input).map_err(|e| Error::invalid_input(e.to_string()))
        };
        if let [input] = inputs {
            return Ok(Self {
                document: create_post::QUERY.to_owned(),
                operation_name: create_post::OPERATION_NAME,
                variables: Map::from_iter([("input".to_owned(), value(input)?)]),
                fields: vec!["createPost".to_owned()],
            });
        }
        let declarations: Vec<String> = (0..inputs.len())
            .map(|i| format!("$i{i}: CreatePostInput!"))
            .collect();
        let mut document = format!(
            "mutation {BATCH_OPERATION}({}) {{\n",
            declarations.join(", ")
        );
        let mut variables = Map::new();
        let mut fields = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let _ = write!(
                document,
                "  p{i}: createPost(input: $i{i}) {{\n    ...PostActionFields\n  }}\n"
            );
            variables.insert(format!("i{i}"), value(input)?);
            fields.push(format!("p{i}"));
        }
        document.push_str("}\n\n");
        document.push_str(fragments(create_post::QUERY));
        Ok(Self {
            document,
            operation_name: BATCH_OPERATION,
            variables,
            fields,
        })
    }
}

impl GraphQl {
    pub(super) async fn create_post(&self, post: &NewPost) -> Result<CreateOutcome> {
        self.create_posts(std::slice::from_ref(post))
            .await?
            .pop()
            .ok_or_else(|| Error::unexpected("a create returned no outcome".to_owned()))
    }

    /// Many new posts at once: the `createPost` of every channel of every post go into the
    /// same aliased batches, so N posts on one channel each cost ceil(N / 30) requests, not N.
    /// Each post gets its own outcome, one result per channel.
    pub(super) async fn create_posts(&self, posts: &[NewPost]) -> Result<Vec<CreateOutcome>> {
        if let Some(i) = posts.iter().position(|p| p.channel_ids.is_empty()) {
            let which = if posts.len() == 1 {
                String::new()
            } else {
                format!(" (post {i} of the batch has none)")
            };
            return Err(Error::invalid_input(format!(
                "a new post needs at least one channel; add one with NewPost::channel{which}"
            )));
        }
        let assets: Vec<Vec<AssetInput>> = posts
            .iter()
            .map(|post| inputs::assets(&post.assets))
            .collect::<Result<_>>()?;
        let linked: Vec<ChannelId> = posts
            .iter()
            .filter(|post| post.link.is_some())
            .flat_map(|post| post.channel_ids.iter().cloned())
            .collect();
        let routes = match linked.is_empty() {
            true => Default::default(),
            false => self.routes(&linked).await?,
        };
        let mut results: Vec<Vec<Option<ChannelResult>>> = posts
            .iter()
            .map(|post| vec![None; post.channel_ids.len()])
            .collect();
        let mut ready: Vec<((usize, usize), CreatePostInput)> = Vec::new();
        for (p, (post, assets)) in posts.iter().zip(&assets).enumerate() {
            for (c, channel_id) in post.channel_ids.iter().enumerate() {
                let service = routes.get(channel_id).map(|route| &route.service);
                match inputs::create(post, channel_id, service, assets) {
                    Ok(input) => ready.push(((p, c), input)),
                    Err(error) => results[p][c] = Some(ChannelResult::Failed(error)),
                }
            }
        }
        let mut stop: Option<Error> = None;
        for batch in ready.chunks(self.inner.max_aliases) {
            let outcome = match &stop {
                Some(error) => Err(error.clone()),
                None => self.send_batch(batch).await,
            };
            match outcome {
                Ok(created) => {
                    for (((p, c), _), result) in batch.iter().zip(created) {
                        results[*p][*c] = Some(result);
                    }
                }
                Err(error) => {
                    // The next batches would be refused the same way: do not send them.
                    if matches!(
                        error.kind(),
                        ErrorKind::RateLimited | ErrorKind::Unauthorized
                    ) {
                        stop = Some(error.clone());
                    }
                    // A request that may have reached Buffer leaves every channel unknown.
                    let result = ChannelResult::of_attempt(Err(error));
                    for ((p, c), _) in batch {
                        results[*p][*c] = Some(result.clone());
                    }
                }
            }
        }
        Ok(posts
            .iter()
            .zip(results)
            .map(|(post, results)| {
                CreateOutcome::new(
                    post.channel_ids
                        .iter()
                        .zip(results)
                        .map(|(channel_id, result)| {
                            ChannelOutcome::new(
                                channel_id.clone(),
                                result.unwrap_or_else(|| ChannelResult::Failed(lost(channel_id))),
                            )
                        })
                        .collect(),
                )
            })
            .collect())
    }

    /// Sends one batch; each channel's result, in order. Each alias stands alone: an alias
    /// whose answer is lost (an error in its path, or `data` nulled by another alias) is
    /// unknown, and the others keep their own results.
    async fn send_batch<K>(&self, batch: &[(K, CreatePostInput)]) -> Result<Vec<ChannelResult>> {
        let inputs: Vec<&CreatePostInput> = batch.iter().map(|(_, input)| input).collect();
        let request = Batch::new(&inputs)?;
        let reply: Reply = self
            .inner
            .wire
            .send(
                &request.document,
                request.operation_name,
                &request.variables,
            )
            .await?;
        Ok(request
            .fields
            .iter()
            .map(|field| match reply.mutation(field) {
                MutationField::Value(raw) => {
                    ChannelResult::of_attempt(payload::post_action(&reply, raw))
                }
                MutationField::Refused(error) => ChannelResult::Failed(error),
                MutationField::Lost(error) => ChannelResult::Unknown(error),
            })
            .collect())
    }
}

/// Never expected: every channel is given a result above.
fn lost(channel_id: &ChannelId) -> Error {
    Error::unexpected(format!("no result was recorded for channel {channel_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::When;

    fn input(channel: &str) -> CreatePostInput {
        inputs::create(&NewPost::new("hi"), &ChannelId::new(channel), None, &[]).unwrap()
    }

    #[test]
    fn the_fragments_are_the_documents_own_and_come_last() {
        let fragments = fragments(create_post::QUERY);
        assert!(fragments.starts_with("fragment PostActionFields on PostActionPayload {"));
        for name in ["PostActionFields", "PostFields", "LinkAttachmentFields"] {
            let definition = format!("fragment {name} on ");
            assert_eq!(create_post::QUERY.matches(&definition).count(), 1, "{name}");
            assert!(fragments.contains(&definition), "{name}");
        }
        assert!(!fragments.contains("query ") && !fragments.contains("mutation "));
    }

    #[test]
    fn one_channel_sends_the_create_post_document_itself() {
        let one = input("c0");
        let batch = Batch::new(&[&one]).unwrap();
        assert_eq!(batch.document, create_post::QUERY);
        assert_eq!(batch.fields, ["createPost"]);
        assert_eq!(batch.variables["input"]["channelId"], "c0");
    }

    #[test]
    fn several_channels_are_aliased_fields_with_one_variable_each() {
        let inputs: Vec<CreatePostInput> = (0..3).map(|i| input(&format!("c{i}"))).collect();
        let refs: Vec<&CreatePostInput> = inputs.iter().collect();
        let batch = Batch::new(&refs).unwrap();
        assert!(batch.document.starts_with(
            "mutation CreatePosts($i0: CreatePostInput!, $i1: CreatePostInput!, $i2: CreatePostInput!) {\n  p0: createPost(input: $i0) {"
        ));
        assert_eq!(batch.fields, ["p0", "p1", "p2"]);
        assert_eq!(batch.variables["i2"]["channelId"], "c2");
        assert_eq!(batch.variables["i2"]["mode"], "addToQueue");
        assert_eq!(batch.variables["i2"]["schedulingType"], "automatic");
        let schema = apollo_compiler::Schema::parse_and_validate(
            include_str!("../../schema.graphql"),
            "schema.graphql",
        )
        .unwrap();
        apollo_compiler::ExecutableDocument::parse_and_validate(&schema, &batch.document, "batch")
            .unwrap();
    }

    #[test]
    fn when_becomes_mode_and_due_time() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-24T18:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let post = NewPost::new("x").when(When::At(at));
        let value =
            serde_json::to_value(inputs::create(&post, &ChannelId::new("c"), None, &[]).unwrap())
                .unwrap();
        assert_eq!(value["mode"], "customScheduled");
        assert_eq!(value["dueAt"], "2026-12-24T18:00:00Z");
        assert_eq!(value["assets"], serde_json::json!([]));
        assert!(value.get("metadata").is_none(), "absent, not null");
    }

    #[test]
    fn a_draft_is_saved_to_draft_and_others_say_nothing() {
        let input = |post: &NewPost| {
            serde_json::to_value(inputs::create(post, &ChannelId::new("c"), None, &[]).unwrap())
                .unwrap()
        };
        assert_eq!(input(&NewPost::new("x").as_draft())["saveToDraft"], true);
        assert!(
            input(&NewPost::new("x")).get("saveToDraft").is_none(),
            "absent, not false"
        );
    }
}
