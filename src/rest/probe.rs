//! The classic decoders and encoders without a request, for benchmarks and fuzzing. Hidden
//! from the documentation: not part of the stable API.

use super::ClassicRest;
use super::answer::Answer;
use super::calls;
use super::wire::{Posted, UpdatePage};
use crate::Result;
use crate::model::{NewPost, Post};

impl ClassicRest {
    /// Reads a `pending.json` / `sent.json` answer into posts, exactly as
    /// [`posts`](crate::BackendExt::posts) does after its request.
    #[doc(hidden)]
    pub fn decode_posts_page(&self, status: u16, body: &[u8]) -> Result<Vec<Post>> {
        let answer = Answer {
            status,
            retry_after: None,
            body,
        };
        let page: UpdatePage = answer.decode("a page of updates", &self.credential)?;
        Ok(page.updates.into_iter().map(|Posted(post)| post).collect())
    }

    /// The form body [`create_post`](crate::BackendExt::create_post) sends.
    #[doc(hidden)]
    pub fn encode_create_form(&self, post: &NewPost) -> Result<String> {
        Ok(calls::create_form(post)?.encode())
    }
}
