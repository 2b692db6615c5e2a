//! The GraphQL decoders and encoders without a request, for benchmarks and fuzzing. Hidden
//! from the documentation: not part of the stable API.

use super::create::Batch;
use super::operations::{create_post::CreatePostInput, posts};
use super::{GraphQl, inputs};
use crate::http::rate_limit::RateLimits;
use crate::model::{NewPost, Post};
use crate::{Error, Result};

impl GraphQl {
    /// Reads a `posts` answer into posts, exactly as [`posts`](crate::BackendExt::posts)
    /// does after its request.
    #[doc(hidden)]
    pub fn decode_posts_page(&self, status: u16, body: &[u8]) -> Result<Vec<Post>> {
        let data: posts::ResponseData =
            self.inner
                .wire
                .decode_data(status, body, &RateLimits::default())?;
        Ok(data
            .posts
            .edges
            .unwrap_or_default()
            .into_iter()
            .map(|edge| edge.node.into())
            .collect())
    }

    /// The request bodies [`create_posts`](crate::BackendExt::create_posts) sends for posts
    /// without a link preview: aliased batches of `createPost`.
    #[doc(hidden)]
    pub fn encode_create_batches(&self, posts: &[NewPost]) -> Result<Vec<String>> {
        let mut ready: Vec<CreatePostInput> = Vec::new();
        for post in posts {
            let assets = inputs::assets(&post.assets)?;
            for channel_id in &post.channel_ids {
                ready.push(inputs::create(post, channel_id, None, &assets)?);
            }
        }
        ready
            .chunks(self.inner.max_aliases)
            .map(|chunk| {
                let refs: Vec<&CreatePostInput> = chunk.iter().collect();
                let batch = Batch::new(&refs)?;
                serde_json::to_string(&serde_json::json!({
                    "query": batch.document,
                    "operationName": batch.operation_name,
                    "variables": batch.variables,
                }))
                .map_err(|e| Error::invalid_input(e.to_string()))
            })
            .collect()
    }
}
