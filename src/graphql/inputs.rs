//! From the model to GraphQL inputs: modes, the `[AssetInput!]` array, link attachments, and
//! the edit input that tells "keep" from "clear".
//!
//! Creates serialize with the generated `CreatePostInput`. Edits use a small input of their
//! own, because `editPost` reads an absent field as "keep" and `null` as "clear" (for `text`),
//! which the generated type (an `Option` per field) cannot say; its parts (assets, metadata,
//! mode) are the generated types, shared with creates.

use super::operations::create_post::{
    AssetInput, BlueskyPostMetadataInput, CreatePostInput, DocumentAssetInput,
    FacebookPostMetadataInput, ImageAssetInput, ImageMetadataInput, LinkAttachmentInput,
    LinkAttachmentThumbnailInput, LinkedInPostMetadataInput, PostInputMetaData, PostTypeFacebook,
    SchedulingType, ShareMode, ThreadsPostMetadataInput, VideoAssetInput,
};
use crate::error::InvalidReason;
use crate::model::{
    Asset, AssetKind, ChannelId, Link, NewPost, Patch, PostEdit, PostId, Service, When,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

/// The share mode and due time for a [`When`].
pub(super) fn schedule(when: &When) -> (ShareMode, Option<DateTime<Utc>>) {
    match when {
        When::Queue => (ShareMode::addToQueue, None),
        When::Next => (ShareMode::shareNext, None),
        When::Now => (ShareMode::shareNow, None),
        When::At(at) => (ShareMode::customScheduled, Some(*at)),
    }
}

/// The `[AssetInput!]` array, one item per asset in order. Fails before any request when an
/// asset cannot be sent: documents need a title and a thumbnail.
pub(crate) fn assets(assets: &[Asset]) -> Result<Vec<AssetInput>> {
    assets.iter().map(asset).collect()
}

fn asset(asset: &Asset) -> Result<AssetInput> {
    let url = asset.url.clone();
    Ok(match &asset.kind {
        AssetKind::Image => AssetInput::Image(ImageAssetInput {
            // altText is required inside the metadata, so metadata goes only with alt text.
            metadata: asset.alt_text.clone().map(|alt_text| ImageMetadataInput {
                alt_text,
                animated_thumbnail: None,
                dimensions: None,
                user_tags: None,
            }),
            thumbnail_url: asset.thumbnail.clone(),
            url,
        }),
        // Buffer rejects a video with thumbnailUrl, so the thumbnail is not sent.
        AssetKind::Video => AssetInput::Video(VideoAssetInput {
            metadata: None,
            thumbnail_url: None,
            url,
        }),
        AssetKind::Document => {
            let (Some(title), Some(thumbnail)) = (&asset.title, &asset.thumbnail) else {
                return Err(Error::invalid_input(format!(
                    "the document {url} needs a title and a thumbnail URL on GraphQL; build it \
                     with Asset::document(url, title, thumbnail)"
                )));
            };
            AssetInput::Document(DocumentAssetInput {
                thumbnail_url: thumbnail.clone(),
                title: title.clone(),
                url,
            })
        }
        AssetKind::Unknown(kind) => {
            return Err(Error::invalid_input(format!(
                "the asset {url} is of kind {kind:?}; GraphQL takes images, videos and documents"
            )));
        }
    })
}

fn attachment(link: &Link) -> LinkAttachmentInput {
    LinkAttachmentInput {
        description: link.description.clone(),
        thumbnail: link
            .thumbnail
            .clone()
            .map(|url| LinkAttachmentThumbnailInput { url }),
        title: link.title.clone(),
        url: link.url.clone(),
    }
}

fn empty_metadata() -> PostInputMetaData {
    PostInputMetaData {
        bluesky: None,
        facebook: None,
        google: None,
        instagram: None,
        linkedin: None,
        mastodon: None,
        pinterest: None,
        threads: None,
        tiktok: None,
        twitter: None,
        youtube: None,
    }
}

/// `metadata.<service>.linkAttachment` for a link, or `None` when the service has no link
/// attachment (the network builds its preview from a URL in the text, if any).
///
/// Facebook's metadata requires a post type; a link post is a `post`.
fn link_metadata(service: &Service, link: Option<&Link>) -> Option<PostInputMetaData> {
    let link_attachment = link.map(attachment);
    let mut metadata = empty_metadata();
    match service {
        Service::Facebook => {
            metadata.facebook = Some(FacebookPostMetadataInput {
                annotations: None,
                first_comment: None,
                link_attachment,
                type_: PostTypeFacebook::post,
            });
        }
        Service::Linkedin => {
            metadata.linkedin = Some(LinkedInPostMetadataInput {
                annotations: None,
                first_comment: None,
                link_attachment,
            });
        }
        Service::Threads => {
            metadata.threads = Some(ThreadsPostMetadataInput {
                link_attachment,
                location_id: None,
                location_name: None,
                thread: None,
                topic: None,
                type_: None,
            });
        }
        Service::Bluesky => {
            metadata.bluesky = Some(BlueskyPostMetadataInput {
                link_attachment,
                thread: None,
            });
        }
        _ => return None,
    }
    Some(metadata)
}

/// The metadata carrying a post's link on a channel of `service`; `None` when there is no
/// link, or when the service has no link attachment and the text already holds the URL.
///
/// Buffer refuses a link attachment beside media, and a link the channel cannot show would be
/// lost silently: both are refused for this channel only.
fn link_for_channel(
    service: &Service,
    link: Option<&Link>,
    text: Option<&str>,
    has_assets: bool,
) -> Result<Option<PostInputMetaData>> {
    let Some(link) = link else {
        return Ok(None);
    };
    match link_metadata(service, Some(link)) {
        Some(_) if has_assets => Err(Error::invalid_input(format!(
            "Buffer does not take a link preview and media on one {service} post; send one or the other"
        ))
        .with_reason(InvalidReason::LinkWithMedia)),
        Some(metadata) => Ok(Some(metadata)),
        None if text.is_some_and(|t| t.contains(&link.url)) => Ok(None),
        None => Err(Error::invalid_input(format!(
            "{service} posts have no link preview on GraphQL; put {} in the text instead",
            link.url
        ))
        .with_reason(InvalidReason::NoLinkPreview)),
    }
}

/// The `createPost` input of a new post on one channel. `service` is needed only when the post
/// has a link; `assets` comes from [`assets`], converted once for all channels.
pub(super) fn create(
    post: &NewPost,
    channel_id: &ChannelId,
    service: Option<&Service>,
    assets: &[AssetInput],
) -> Result<CreatePostInput> {
    let metadata = match (service, &post.link) {
        (Some(service), link) => link_for_channel(
            service,
            link.as_ref(),
            post.text.as_deref(),
            !assets.is_empty(),
        )?,
        (None, None) => None,
        (None, Some(_)) => {
            return Err(Error::not_found(format!(
                "channel {channel_id} is not among the account's channels"
            )));
        }
    };
    let (mode, due_at) = schedule(&post.when);
    Ok(CreatePostInput {
        ai_assisted: None,
        assets: assets.to_vec(),
        channel_id: channel_id.clone(),
        draft_id: None,
        due_at,
        idea_id: None,
        metadata,
        mode,
        needs_approval: false,
        save_to_draft: post.draft.then_some(true),
        scheduling_type: SchedulingType::automatic,
        source: None,
        tag_ids: None,
        text: post.text.clone(),
    })
}

/// The `editPost` input: fields left at [`Patch::Keep`] are absent, [`Patch::Clear`] is `null`
/// for text and `[]` for assets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EditPostInput {
    id: PostId,
    #[serde(skip_serializing_if = "Patch::is_keep", serialize_with = "patch")]
    text: Patch<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assets: Option<Vec<AssetInput>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<ShareMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_at: Option<DateTime<Utc>>,
}

/// The variables of the `EditPost` document.
#[derive(Debug, Serialize)]
pub(super) struct EditPostVariables {
    pub input: EditPostInput,
}

fn patch<S: Serializer, T: Serialize>(patch: &Patch<T>, serializer: S) -> Result<S::Ok, S::Error> {
    match patch {
        Patch::Set(value) => value.serialize(serializer),
        Patch::Keep | Patch::Clear => serializer.serialize_none(),
    }
}

impl EditPostInput {
    /// Publishes a post now: `editPost` with `mode: shareNow` and nothing else.
    pub fn share_now(id: &PostId) -> Self {
        Self {
            id: id.clone(),
            text: Patch::Keep,
            assets: None,
            metadata: None,
            mode: Some(ShareMode::shareNow),
            due_at: None,
        }
    }

    /// The input for an edit. `service` is the post's network, needed only when the edit
    /// changes the link.
    pub fn new(id: &PostId, edit: &PostEdit, service: Option<&Service>) -> Result<Self> {
        let assets = match &edit.assets {
            Patch::Keep => None,
            Patch::Clear => Some(Vec::new()),
            Patch::Set(list) => Some(assets(list)?),
        };
        let has_assets = assets.as_ref().is_some_and(|a| !a.is_empty());
        let metadata = match (&edit.link, service) {
            (Patch::Keep, _) => None,
            (_, None) => {
                return Err(Error::not_found(format!(
                    "post {id} was not found to change its link"
                )));
            }
            (Patch::Set(link), Some(service)) => {
                link_for_channel(service, Some(link), text_of(&edit.text), has_assets)?
                    .map(json)
                    .transpose()?
            }
            (Patch::Clear, Some(service)) => clear_link(service)?,
        };
        let (mode, due_at) = match &edit.when {
            Some(when) => {
                let (mode, due_at) = schedule(when);
                (Some(mode), due_at)
            }
            None => (None, None),
        };
        Ok(Self {
            id: id.clone(),
            text: edit.text.clone(),
            assets,
            metadata,
            mode,
            due_at,
        })
    }
}

fn text_of(text: &Patch<String>) -> Option<&str> {
    match text {
        Patch::Set(text) => Some(text),
        Patch::Keep | Patch::Clear => None,
    }
}

fn json(metadata: PostInputMetaData) -> Result<serde_json::Value> {
    serde_json::to_value(metadata).map_err(|e| Error::invalid_input(e.to_string()))
}

/// `metadata.<service>.linkAttachment: null`, for the services that have one. Whether Buffer
/// reads `null` here as "remove the preview" is not confirmed.
fn clear_link(service: &Service) -> Result<Option<serde_json::Value>> {
    let Some(metadata) = link_metadata(service, None) else {
        return Ok(None);
    };
    let mut value = json(metadata)?;
    if let Some(per_service) = value.as_object_mut().and_then(|m| m.values_mut().next()) {
        per_service["linkAttachment"] = serde_json::Value::Null;
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keep_is_absent_clear_is_null_set_is_the_value() {
        let id = PostId::new("p1");
        let keep = EditPostInput::new(&id, &PostEdit::default(), None).unwrap();
        assert_eq!(serde_json::to_value(&keep).unwrap(), json!({"id": "p1"}));

        let clear = PostEdit {
            text: Patch::Clear,
            assets: Patch::Clear,
            ..PostEdit::default()
        };
        let clear = EditPostInput::new(&id, &clear, None).unwrap();
        assert_eq!(
            serde_json::to_value(&clear).unwrap(),
            json!({"id": "p1", "text": null, "assets": []})
        );

        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let set = PostEdit::default()
            .text("new")
            .assets(vec![Asset::image("https://x/a.png").with_alt_text("a cat")])
            .when(When::At(at));
        let set = EditPostInput::new(&id, &set, None).unwrap();
        assert_eq!(
            serde_json::to_value(&set).unwrap(),
            json!({
                "id": "p1",
                "text": "new",
                "assets": [{"image": {"url": "https://x/a.png", "metadata": {"altText": "a cat"}}}],
                "mode": "customScheduled",
                "dueAt": "2026-12-01T10:00:00Z"
            })
        );
    }

    #[test]
    fn assets_are_one_field_per_item_in_order() {
        let list = assets(&[
            Asset::image("https://x/1.png"),
            Asset::video("https://x/2.mp4").with_thumbnail("https://x/t.png"),
            Asset::document("https://x/3.pdf", "Deck", "https://x/3.png"),
        ])
        .unwrap();
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            json!([
                {"image": {"url": "https://x/1.png"}},
                {"video": {"url": "https://x/2.mp4"}},
                {"document": {"url": "https://x/3.pdf", "title": "Deck", "thumbnailUrl": "https://x/3.png"}}
            ])
        );
        let mut untitled = Asset::document("https://x/3.pdf", "", "");
        untitled.title = None;
        assert!(matches!(
            assets(&[untitled]),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn links_go_to_the_channels_service_and_never_beside_media() {
        let post = NewPost::new("read this").link(Link::new("https://example.com/a"));
        let input = create(&post, &ChannelId::new("c"), Some(&Service::Linkedin), &[]).unwrap();
        assert_eq!(
            serde_json::to_value(&input).unwrap()["metadata"],
            json!({"linkedin": {"linkAttachment": {"url": "https://example.com/a"}}})
        );
        let facebook = create(&post, &ChannelId::new("c"), Some(&Service::Facebook), &[]).unwrap();
        assert_eq!(
            serde_json::to_value(&facebook).unwrap()["metadata"]["facebook"]["type"],
            "post"
        );
        let media = assets(&[Asset::image("https://x/1.png")]).unwrap();
        assert!(
            create(
                &post,
                &ChannelId::new("c"),
                Some(&Service::Linkedin),
                &media
            )
            .is_err()
        );
        // Twitter has no link attachment: refused unless the text carries the URL.
        assert!(create(&post, &ChannelId::new("c"), Some(&Service::Twitter), &[]).is_err());
        let inline =
            NewPost::new("read https://example.com/a").link(Link::new("https://example.com/a"));
        let tweet = create(&inline, &ChannelId::new("c"), Some(&Service::Twitter), &[]).unwrap();
        assert!(tweet.metadata.is_none());
    }

    #[test]
    fn a_cleared_link_is_null_in_the_services_metadata() {
        let edit = PostEdit {
            link: Patch::Clear,
            ..PostEdit::default()
        };
        let input = EditPostInput::new(&PostId::new("p"), &edit, Some(&Service::Bluesky)).unwrap();
        assert_eq!(
            serde_json::to_value(&input).unwrap()["metadata"],
            json!({"bluesky": {"linkAttachment": null}})
        );
    }
}
