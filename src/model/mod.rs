//! The backend-neutral model: what both APIs mean, in the modern vocabulary.
//!
//! The classic API's profiles are [`Channel`]s and its updates are [`Post`]s; each type carries
//! the old name as a doc alias, so searching the docs for `profile` or `update` finds it.

mod account;
mod channel;
mod enums;
mod extras;
mod ids;
mod page;
mod post;

pub use account::{Account, DailyPostingLimit, Organization};
pub use channel::{Channel, Schedule};
pub use enums::{AssetKind, ChannelType, Day, PostStatus, Service};
pub use extras::{
    Configuration, Idea, Interaction, InteractionUser, MediaLimits, NewIdea, ServiceLimits,
};
pub use ids::{AccountId, ChannelId, IdeaId, InteractionId, OrganizationId, PostId};
pub use page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest, PageToken};
pub use post::{
    Asset, ChannelOutcome, ChannelResult, CreateOutcome, Link, NewPost, Patch, Post, PostEdit,
    PostList, PostQuery, PublishingError, RecentPosts, When,
};
