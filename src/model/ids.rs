//! Identifier newtypes.
//!
//! Buffer's ids are 24-hex MongoDB ObjectIds on both APIs, and a classic profile id *is* the
//! GraphQL channel id. Wrapping each in its own type keeps a post id from being passed where a
//! channel id belongs, while the wire form stays a plain JSON string.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id as Buffer sent it. No format is enforced: ids from the simulator or a
            /// future Buffer need not be ObjectIds.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as it goes on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self::new(id)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// The id of a Buffer account (classic: the user).
    #[doc(alias = "user_id")]
    AccountId
);
id_type!(
    /// The id of an organization. Only the GraphQL API has organizations.
    OrganizationId
);
id_type!(
    /// The id of a channel; the classic API calls it a profile id, and the two are equal.
    #[doc(alias = "profile_id")]
    ChannelId
);
id_type!(
    /// The id of a post; the classic API calls it an update id, and the two are equal.
    #[doc(alias = "update_id")]
    PostId
);
id_type!(
    /// The id of an idea (GraphQL only).
    IdeaId
);
id_type!(
    /// The id of an interaction with a sent post (classic only).
    InteractionId
);
