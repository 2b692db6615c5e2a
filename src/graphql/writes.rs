//! Single-post mutations: edit, share now, delete, move to the top, and creating ideas.

use super::inputs::{EditPostInput, EditPostVariables};
use super::operations::{
    CreateIdea, DeletePost, MovePostInQueue, create_idea, delete_post, edit_post,
    move_post_in_queue,
};
use super::wire::Reply;
use super::{GraphQl, payload};
use crate::error::InvalidReason;
use crate::model::{self, Idea, NewIdea, Patch, PostEdit, PostId};
use crate::{Error, ErrorKind, Result};
use graphql_client::GraphQLQuery;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

impl GraphQl {
    /// Sends one generated mutation and returns its reply with the payload field's raw value,
    /// decoded by the caller.
    async fn mutate<Q: GraphQLQuery>(&self, variables: Q::Variables) -> Result<Reply> {
        let body = Q::build_query(variables);
        self.inner
            .wire
            .send(body.query, body.operation_name, &body.variables)
            .await
    }

    pub(super) async fn edit_post(&self, id: &PostId, edit: &PostEdit) -> Result<model::Post> {
        // A link lives in the metadata of the post's network, which only the post can tell.
        let service = match edit.link {
            Patch::Keep => None,
            _ => Some(self.post(id).await?.service),
        };
        let input = EditPostInput::new(id, edit, service.as_ref())?;
        self.send_edit(input).await
    }

    /// Publishes a queued post now: `editPost` with `mode: shareNow`. Buffer documents `mode`
    /// for creates; that editPost honours it the same way is not confirmed.
    pub(super) async fn share_post(&self, id: &PostId) -> Result<()> {
        self.send_edit(EditPostInput::share_now(id)).await.map(drop)
    }

    async fn send_edit(&self, input: EditPostInput) -> Result<model::Post> {
        let reply = self
            .inner
            .wire
            .send(
                edit_post::QUERY,
                edit_post::OPERATION_NAME,
                &EditPostVariables { input },
            )
            .await?;
        payload::post_action(&reply, reply.field("editPost")?)
    }

    pub(super) async fn delete_post(&self, id: &PostId) -> Result<()> {
        let input = delete_post::DeletePostInput { id: id.clone() };
        let reply = self
            .mutate::<DeletePost>(delete_post::Variables { input })
            .await?;
        use delete_post::DeletePostDeletePost as Payload;
        match member::<Payload>(&reply, "deletePost")? {
            (Payload::DeletePostSuccess(_), _) => Ok(()),
            (Payload::VoidMutationError(e), _) => {
                let refusal = payload::mutation_error("VoidMutationError", e.message, None);
                Err(self.gone_or(id, refusal).await)
            }
            (Payload::Unknown, raw) => Err(payload::unknown_member(raw)),
        }
    }

    /// Moves a queued post to the front with `movePostInQueue`, which Buffer marks
    /// experimental.
    pub(super) async fn move_post_to_top(&self, id: &PostId) -> Result<model::Post> {
        let input = move_post_in_queue::MovePostInQueueInput {
            id: id.clone(),
            position: move_post_in_queue::QueuePosition::top,
        };
        let reply = self
            .mutate::<MovePostInQueue>(move_post_in_queue::Variables { input })
            .await?;
        use move_post_in_queue::MovePostInQueueMovePostInQueue as Payload;
        match member::<Payload>(&reply, "movePostInQueue")? {
            (Payload::PostActionSuccess(success), _) => Ok(success.post.into()),
            (Payload::VoidMutationError(e), _) => {
                Err(self.gone_or(id, refused_move(e.message)).await)
            }
            (Payload::Unknown, raw) => Err(payload::unknown_member(raw)),
        }
    }

    /// What a `VoidMutationError` about post `id` meant. The type says nothing more than "it
    /// failed", so the post is read (one more request, on failure only): a read answered
    /// `NOT_FOUND` makes it [`Error::NotFound`]; otherwise `refusal` stands.
    async fn gone_or(&self, id: &PostId, refusal: Error) -> Error {
        match self.post(id).await {
            Err(read) if read.kind() == ErrorKind::NotFound => {
                Error::from_graphql(ErrorKind::NotFound, "VoidMutationError", refusal.message())
            }
            _ => refusal,
        }
    }

    pub(super) async fn create_idea(&self, idea: &NewIdea) -> Result<Idea> {
        let input = create_idea::CreateIdeaInput {
            content: create_idea::IdeaContentInput {
                ai_assisted: None,
                date: None,
                media: None,
                services: None,
                tags: None,
                text: idea.text.clone(),
                title: idea.title.clone(),
            },
            cta: None,
            group: None,
            organization_id: idea.organization_id.to_string(),
            template_id: None,
        };
        let reply = self
            .mutate::<CreateIdea>(create_idea::Variables { input })
            .await?;
        use create_idea::CreateIdeaCreateIdea as Payload;
        let error =
            |typename: &str, message: String| payload::mutation_error(typename, message, None);
        match member::<Payload>(&reply, "createIdea")? {
            (Payload::Idea(idea), _) => Ok(idea.into()),
            (Payload::IdeaResponse(response), _) => {
                response.idea.map(Idea::from).ok_or_else(|| {
                    Error::unexpected("Buffer answered createIdea without the idea".to_owned())
                })
            }
            (Payload::InvalidInputError(e), _) => Err(error("InvalidInputError", e.message)),
            (Payload::LimitReachedError(e), _) => Err(error("LimitReachedError", e.message)),
            (Payload::UnauthorizedError(e), _) => Err(error("UnauthorizedError", e.message)),
            (Payload::UnexpectedError(e), _) => Err(error("UnexpectedError", e.message)),
            (Payload::Unknown, raw) => Err(payload::unknown_member(raw)),
        }
    }
}

/// Why `movePostInQueue` refused a post that exists: its state (custom-scheduled, not in the
/// queue), the case of classic code 1027, so the same kind and reason on both backends:
/// [`InvalidReason::WrongPostState`]. GraphQL sends no code, so none is added.
fn refused_move(message: String) -> Error {
    Error::from_graphql(ErrorKind::InvalidInput, "VoidMutationError", message)
        .with_reason(InvalidReason::WrongPostState)
}

/// A payload union field decoded, with its raw value for members this version does not know.
fn member<'r, T: DeserializeOwned>(reply: &'r Reply, field: &str) -> Result<(T, &'r RawValue)> {
    let raw = reply.field(field)?;
    Ok((reply.decode(raw)?, raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Origin;

    #[test]
    fn a_refused_move_is_buffers_wrong_post_state_like_classic_1027() {
        let refused = refused_move(
            "Only posts in the queue that are not custom scheduled can be moved".to_owned(),
        );
        assert_eq!(refused.kind(), ErrorKind::InvalidInput);
        assert_eq!(refused.reason(), Some(InvalidReason::WrongPostState));
        assert_eq!(refused.origin(), Some(Origin::Buffer));
        assert_eq!(refused.legacy_code(), None);
        assert_eq!(refused.graphql_code(), Some("VoidMutationError"));
    }
}
