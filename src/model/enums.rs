//! Enums that mirror server enums.
//!
//! Buffer adds enum values often (services, statuses, channel types), so every one of these has
//! an `Unknown(String)` fallback that keeps the value as sent: a new value is data to pass on,
//! not a reason to fail a whole response.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Declares an enum with a canonical wire name per variant, extra spellings accepted on input
/// (the two APIs name some values differently), and an `Unknown(String)` fallback.
macro_rules! server_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal $(| $alias:literal)* ,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of buffer-bridge does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The canonical name of the value (the GraphQL spelling where the APIs differ).
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(other) => other,
                }
            }

            /// Reads a value in either API's spelling; anything else becomes `Unknown`.
            pub fn parse(value: &str) -> Self {
                match value {
                    $( $wire $(| $alias)* => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::parse(value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::parse(&value))
            }
        }
    };
}

server_enum! {
    /// The social network a channel publishes to.
    pub enum Service {
        /// X, formerly Twitter.
        Twitter => "twitter",
        /// Facebook pages and groups.
        Facebook => "facebook",
        /// Instagram business and creator accounts.
        Instagram => "instagram",
        /// LinkedIn profiles and pages.
        Linkedin => "linkedin",
        /// Pinterest boards.
        Pinterest => "pinterest",
        /// TikTok.
        Tiktok => "tiktok",
        /// Google Business Profile.
        GoogleBusiness => "googlebusiness",
        /// Buffer's Start Page.
        StartPage => "startPage",
        /// Mastodon.
        Mastodon => "mastodon",
        /// YouTube.
        Youtube => "youtube",
        /// Threads.
        Threads => "threads",
        /// Bluesky.
        Bluesky => "bluesky",
    }
}

impl Service {
    /// The network's name as people write it (`LinkedIn`, `X`), for sentences and tables.
    pub fn display_name(&self) -> &str {
        match self {
            Self::Twitter => "X",
            Self::Facebook => "Facebook",
            Self::Instagram => "Instagram",
            Self::Linkedin => "LinkedIn",
            Self::Pinterest => "Pinterest",
            Self::Tiktok => "TikTok",
            Self::GoogleBusiness => "Google Business Profile",
            Self::StartPage => "Start Page",
            Self::Mastodon => "Mastodon",
            Self::Youtube => "YouTube",
            Self::Threads => "Threads",
            Self::Bluesky => "Bluesky",
            Self::Unknown(name) => name,
        }
    }
}

server_enum! {
    /// What kind of account a channel is on its network (classic: `service_type`).
    pub enum ChannelType {
        /// A personal profile.
        Profile => "profile",
        /// A page (Facebook, LinkedIn).
        Page => "page",
        /// A group.
        Group => "group",
        /// A business account.
        Business => "business",
        /// A generic account.
        Account => "account",
        /// A channel (YouTube).
        Channel => "channel",
    }
}

server_enum! {
    /// Where a post is in its life.
    ///
    /// The classic API calls a queued post `buffer`; it reads as [`PostStatus::Scheduled`].
    #[doc(alias = "buffer")]
    pub enum PostStatus {
        /// Saved as a draft, not queued.
        Draft => "draft",
        /// Waiting for a team member's approval.
        NeedsApproval => "needs_approval",
        /// In the queue or scheduled for a time (classic: `buffer`, the "pending" list).
        #[doc(alias = "pending")]
        Scheduled => "scheduled" | "buffer",
        /// Being sent right now.
        Sending => "sending",
        /// Published.
        Sent => "sent",
        /// The network rejected it; see [`Post::error`](crate::model::Post::error).
        Error => "error",
    }
}

server_enum! {
    /// A day of the week in a posting schedule. Both APIs use three-letter names.
    pub enum Day {
        /// Monday.
        Mon => "mon",
        /// Tuesday.
        Tue => "tue",
        /// Wednesday.
        Wed => "wed",
        /// Thursday.
        Thu => "thu",
        /// Friday.
        Fri => "fri",
        /// Saturday.
        Sat => "sat",
        /// Sunday.
        Sun => "sun",
    }
}

server_enum! {
    /// The kind of a media attachment.
    pub enum AssetKind {
        /// A picture (classic: `media[photo]` in, `media.picture` out).
        Image => "image" | "picture" | "photo",
        /// A video.
        Video => "video",
        /// A document such as a PDF carousel (LinkedIn).
        Document => "document",
    }
}

impl Day {
    /// The seven days, Monday first.
    pub const WEEK: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept_not_rejected() {
        let status: PostStatus = serde_json::from_str("\"archived\"").unwrap();
        assert_eq!(status, PostStatus::Unknown("archived".into()));
        assert_eq!(serde_json::to_string(&status).unwrap(), "\"archived\"");
    }

    #[test]
    fn classic_spellings_read_as_the_modern_value() {
        assert_eq!(PostStatus::parse("buffer"), PostStatus::Scheduled);
        assert_eq!(AssetKind::parse("picture"), AssetKind::Image);
        assert_eq!(PostStatus::Scheduled.as_str(), "scheduled");
    }
}
