//! The differences between the classic and the GraphQL backend that are known and explained:
//! one table, field by field, each entry with the section of MIGRATION.md that tells users
//! about it.
//!
//! The table serves two checks, so that they cannot drift apart:
//! [`Comparator::rest_vs_graphql`](super::Comparator::rest_vs_graphql) accepts these
//! differences, and only these, when it compares two live answers; the parity tests accept
//! them when they run the same scenarios through both backends on the simulator. A difference
//! that is not in the table is a bug, or a finding that MIGRATION.md does not explain yet.

use crate::backend::BackendKind;
use BackendKind::{ClassicRest as Rest, GraphQl};

/// The model value a known difference sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// An [`Account`](crate::model::Account).
    Account,
    /// A [`Channel`](crate::model::Channel).
    Channel,
    /// One day of a channel's [`Schedule`](crate::model::Schedule).
    Schedule,
    /// A [`Post`](crate::model::Post), wherever one is answered (lists, reads, writes).
    Post,
}

/// How a field may differ between the two backends, and so how it is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Treatment {
    /// Only this API reports the field; the other leaves it empty (`null`, `false`, `""`, `[]`,
    /// `{}`). A difference is accepted where one side is empty; two values that differ are
    /// still a difference.
    OnlyOn(BackendKind),
    /// The items of a list whose field is `true` are listed by this API only; the other leaves
    /// the whole item out. Such items are left out of both answers before they are compared.
    ListedOnlyOn(BackendKind),
    /// A time that classic keeps in whole seconds and GraphQL in milliseconds: compared to the
    /// second.
    Seconds,
    /// A handle one API writes with a leading `@` and the other without: compared without it.
    WithoutAt,
    /// Both APIs report it, each with its own names and counts: not compared.
    Differs,
}

/// One field that may differ between the two backends, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KnownDifference {
    /// The value the field belongs to.
    pub subject: Subject,
    /// The field inside the subject, in [`PathPattern`](super::PathPattern) notation
    /// (`assets[*].alt_text`).
    pub field: &'static str,
    /// How it may differ.
    pub treatment: Treatment,
    /// Why, with the section of MIGRATION.md that explains it to users.
    pub reason: &'static str,
}

const fn known(
    subject: Subject,
    field: &'static str,
    treatment: Treatment,
    reason: &'static str,
) -> KnownDifference {
    KnownDifference {
        subject,
        field,
        treatment,
        reason,
    }
}

const WHOLE_SECONDS: &str =
    "classic times are whole seconds, GraphQL's have milliseconds (MIGRATION.md, Times)";

/// An account: `GET /user.json` against `account`.
pub const ACCOUNT: &[KnownDifference] = &[
    known(
        Subject::Account,
        "plan",
        Treatment::OnlyOn(Rest),
        "GraphQL has no plan field (MIGRATION.md, GET /user.json: Lost)",
    ),
    known(
        Subject::Account,
        "email",
        Treatment::OnlyOn(GraphQl),
        "only GraphQL reports the email (MIGRATION.md, GET /user.json: Gained)",
    ),
    known(
        Subject::Account,
        "name",
        Treatment::OnlyOn(GraphQl),
        "only GraphQL reports the name (MIGRATION.md, GET /user.json: Gained)",
    ),
    known(
        Subject::Account,
        "organizations",
        Treatment::OnlyOn(GraphQl),
        "the classic API predates organizations (MIGRATION.md, Ids)",
    ),
    known(
        Subject::Account,
        "created_at",
        Treatment::Seconds,
        WHOLE_SECONDS,
    ),
];

/// A channel: a classic profile against a GraphQL channel.
pub const CHANNEL: &[KnownDifference] = &[
    known(
        Subject::Channel,
        "organization_id",
        Treatment::OnlyOn(GraphQl),
        "the classic API predates organizations (MIGRATION.md, GET /profiles.json: Gained)",
    ),
    known(
        Subject::Channel,
        "display_name",
        Treatment::WithoutAt,
        "classic formatted_username writes a Twitter handle with an @, GraphQL displayName \
         without (MIGRATION.md, GET /profiles.json: Different)",
    ),
    known(
        Subject::Channel,
        "created_at",
        Treatment::Seconds,
        WHOLE_SECONDS,
    ),
];

/// A day of a posting schedule, in `schedules` and in a channel's `schedules`.
pub const SCHEDULE: &[KnownDifference] = &[known(
    Subject::Schedule,
    "paused",
    Treatment::ListedOnlyOn(GraphQl),
    "a paused day is listed on GraphQL only; the classic API has no pause \
     (MIGRATION.md, GET /profiles/:id/schedules.json)",
)];

/// A post: a classic update against a GraphQL post.
pub const POST: &[KnownDifference] = &[
    known(
        Subject::Post,
        "created_at",
        Treatment::Seconds,
        WHOLE_SECONDS,
    ),
    known(
        Subject::Post,
        "updated_at",
        Treatment::Seconds,
        WHOLE_SECONDS,
    ),
    known(Subject::Post, "due_at", Treatment::Seconds, WHOLE_SECONDS),
    known(Subject::Post, "sent_at", Treatment::Seconds, WHOLE_SECONDS),
    known(
        Subject::Post,
        "service_post_id",
        Treatment::OnlyOn(Rest),
        "GraphQL has no service_update_id, only the post's URL on the network \
         (MIGRATION.md, GET /profiles/:id/updates/sent.json: Lost)",
    ),
    known(
        Subject::Post,
        "external_link",
        Treatment::OnlyOn(GraphQl),
        "only GraphQL has the post's URL on the network \
         (MIGRATION.md, GET /profiles/:id/updates/sent.json: Gained)",
    ),
    known(
        Subject::Post,
        "assets[*].alt_text",
        Treatment::OnlyOn(GraphQl),
        "a classic read never shows alt text (MIGRATION.md, POST /updates/create.json: Media)",
    ),
    known(
        Subject::Post,
        "assets[*].title",
        Treatment::OnlyOn(GraphQl),
        "a classic read never shows asset titles \
         (MIGRATION.md, POST /updates/create.json: Media)",
    ),
    known(
        Subject::Post,
        "metrics",
        Treatment::Differs,
        "classic statistics and GraphQL metrics name and count figures differently \
         (MIGRATION.md, Statistics and metrics)",
    ),
];

/// Every known difference, subject by subject.
pub const ALL: [&[KnownDifference]; 4] = [ACCOUNT, CHANNEL, SCHEDULE, POST];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_entry_sits_in_its_table_and_says_where_migration_explains_it() {
        let tables = [
            (Subject::Account, ACCOUNT),
            (Subject::Channel, CHANNEL),
            (Subject::Schedule, SCHEDULE),
            (Subject::Post, POST),
        ];
        for (subject, table) in tables {
            for entry in table {
                assert_eq!(entry.subject, subject, "{entry:?}");
                assert!(entry.reason.contains("(MIGRATION.md, "), "{entry:?}");
            }
        }
    }
}
