//! The classic API's JSON, as it really comes, and its translation into the model.
//!
//! Every field is optional and unknown fields are ignored: the recorded bodies differ by era
//! (a profile sometimes lacks `default`, an update sometimes carries `_id`), and a field the
//! bridge does not need must never fail a whole answer. A field of an unexpected type reads as
//! absent. Only what the model cannot do without is required: an id (`id`, or else `_id`),
//! and an update's `profile_id`.

use crate::model::{
    Account, Asset, Channel, ChannelType, Configuration, Day, Interaction, InteractionUser, Link,
    MediaLimits, Post, PostStatus, Schedule, Service, ServiceLimits,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Deserializers that accept what the classic API has been seen to send for a field, and
/// read anything else as absent instead of failing the answer.
pub(crate) mod lenient {
    use chrono::{DateTime, Utc};
    use serde::de::value::MapAccessDeserializer;
    use serde::de::{
        DeserializeOwned, Error as _, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess, Visitor,
    };
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::fmt;
    use std::marker::PhantomData;

    /// A JSON scalar as it was sent, borrowed for the moment a reader looks at it: readers
    /// take what they need from it without building a [`Value`] (most fields are strings that
    /// are kept, or parsed and dropped).
    #[derive(Clone, Copy)]
    pub(crate) enum Scalar<'a> {
        Text(&'a str),
        Signed(i64),
        Unsigned(u64),
        Float(f64),
        Bool(bool),
    }

    impl Scalar<'_> {
        /// A finite number, or one in a string (`"NaN"` and `"inf"` parse as floats but are
        /// not).
        fn number(self) -> Option<f64> {
            let number = match self {
                Self::Text(s) => s.trim().parse().ok(),
                Self::Signed(n) => Some(n as f64),
                Self::Unsigned(n) => Some(n as f64),
                Self::Float(n) => Some(n),
                Self::Bool(_) => None,
            };
            number.filter(|n: &f64| n.is_finite())
        }

        /// A whole number within `0..=max`.
        fn whole(self, max: f64) -> Option<f64> {
            self.number()
                .filter(|n| n.fract() == 0.0 && (0.0..=max).contains(n))
        }

        /// Text as sent; a number written out as JSON writes it (an id may come as a number).
        fn text(self) -> Option<String> {
            match self {
                Self::Text(s) => Some(s.to_owned()),
                Self::Signed(n) => Some(n.to_string()),
                Self::Unsigned(n) => Some(n.to_string()),
                Self::Float(n) => Some(Value::from(n).to_string()),
                Self::Bool(_) => None,
            }
        }
    }

    /// Reads one scalar with `read`; a list or an object is skipped without being built and,
    /// like `null`, reads as absent.
    fn read_scalar<'de, D: Deserializer<'de>, T>(
        deserializer: D,
        read: impl FnOnce(Scalar<'_>) -> Option<T>,
    ) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_any(ScalarVisitor(read, PhantomData))
    }

    struct ScalarVisitor<F, T>(F, PhantomData<T>);

    impl<'de, T, F: FnOnce(Scalar<'_>) -> Option<T>> Visitor<'de> for ScalarVisitor<F, T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Option<T>, E> {
            Ok((self.0)(Scalar::Text(v)))
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Option<T>, E> {
            Ok((self.0)(Scalar::Signed(v)))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Option<T>, E> {
            Ok((self.0)(Scalar::Unsigned(v)))
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Option<T>, E> {
            Ok((self.0)(Scalar::Float(v)))
        }

        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Option<T>, E> {
            Ok((self.0)(Scalar::Bool(v)))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }

    /// Unix seconds (integer, float or numeric string), or an RFC 3339 string.
    pub(crate) fn epoch<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let read = |value: Scalar<'_>| {
            if let Some(seconds) = value.number() {
                // The classic API sends whole seconds; `as` saturates rather than wrapping.
                return DateTime::from_timestamp(seconds as i64, 0);
            }
            match value {
                Scalar::Text(s) => DateTime::parse_from_rfc3339(s)
                    .ok()
                    .map(|t| t.with_timezone(&Utc)),
                _ => None,
            }
        };
        read_scalar(deserializer, read)
    }

    /// A string; numbers are written out (an id may come as a number).
    pub(crate) fn text<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        read_scalar(deserializer, |value| value.text())
    }

    /// A string read straight into a type that parses it (the model's server enums), so a
    /// known value costs no allocation.
    pub(crate) fn parsed<'de, D: Deserializer<'de>, T: for<'a> From<&'a str>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        let read = |value: Scalar<'_>| match value {
            Scalar::Text(s) => Some(T::from(s)),
            other => other.text().map(|s| T::from(&s)),
        };
        read_scalar(deserializer, read)
    }

    /// A boolean from `true`/`false`, numbers or strings. `disconnected` is `null`, a boolean
    /// or a string depending on the source: a non-empty string other than `false`/`0` (a
    /// reason, a date) reads as `true`.
    pub(crate) fn flag<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<bool>, D::Error> {
        let read = |value: Scalar<'_>| match value {
            Scalar::Bool(b) => Some(b),
            Scalar::Text(s) => Some(!matches!(s.trim(), "" | "false" | "0")),
            number => number.number().map(|n| n != 0.0),
        };
        read_scalar(deserializer, read)
    }

    /// A classic error code, as a number or a numeric string.
    pub(crate) fn code<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u16>, D::Error> {
        let read = |value: Scalar<'_>| value.whole(f64::from(u16::MAX)).map(|n| n as u16);
        read_scalar(deserializer, read)
    }

    /// A count or limit: a whole number, at most `u32::MAX`.
    pub(crate) fn count<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u64>, D::Error> {
        let read = |value: Scalar<'_>| value.whole(f64::from(u32::MAX)).map(|n| n as u64);
        read_scalar(deserializer, read)
    }

    /// A list; anything but an array reads as empty. An item of the wrong shape (including
    /// a nested array, which serde would read as a struct) fails the answer: dropping it would
    /// silently lose data. Read in one pass, without an intermediate `Value` (pages of
    /// updates are the largest answers), and at most [`MAX_ITEMS`](super::MAX_ITEMS) items.
    pub(crate) fn list<'de, D: Deserializer<'de>, T: DeserializeOwned>(
        deserializer: D,
    ) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }

    struct ListVisitor<T>(PhantomData<T>);

    impl<'de, T: DeserializeOwned> Visitor<'de> for ListVisitor<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(256));
            while let Some(Item(item)) = seq.next_element::<Item<T>>()? {
                if items.len() == super::MAX_ITEMS {
                    return Err(A::Error::custom(format!(
                        "a list of more than {} items",
                        super::MAX_ITEMS
                    )));
                }
                items.push(item);
            }
            Ok(items)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }

        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
    }

    /// One item of a [`list`]: anything `T` reads, except a list.
    struct Item<T>(T);

    impl<'de, T: DeserializeOwned> Deserialize<'de> for Item<T> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(ItemVisitor(PhantomData))
        }
    }

    struct ItemVisitor<T>(PhantomData<T>);

    impl<'de, T: DeserializeOwned> Visitor<'de> for ItemVisitor<T> {
        type Value = Item<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list item")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Item<T>, A::Error> {
            Err(A::Error::custom("a list inside a list"))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item<T>, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(Item)
        }

        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Item<T>, E> {
            T::deserialize(v.into_deserializer()).map(Item)
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Item<T>, E> {
            T::deserialize(v.into_deserializer()).map(Item)
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Item<T>, E> {
            T::deserialize(v.into_deserializer()).map(Item)
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Item<T>, E> {
            T::deserialize(v.into_deserializer()).map(Item)
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Item<T>, E> {
            T::deserialize(v.into_deserializer()).map(Item)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Item<T>, E> {
            T::deserialize(().into_deserializer()).map(Item)
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Item<T>, E> {
            T::deserialize(().into_deserializer()).map(Item)
        }
    }

    /// An object read as `T`; anything else (`null`, `[]`, a string) reads as absent.
    pub(crate) fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        Shaped::<Object<T>>::deserialize(deserializer).map(|Shaped(Object(object))| object)
    }

    /// A map of objects; anything but an object reads as empty.
    pub(crate) fn map<'de, D: Deserializer<'de>, T: DeserializeOwned>(
        deserializer: D,
    ) -> Result<BTreeMap<String, T>, D::Error> {
        Shaped::<Entries<T>>::deserialize(deserializer).map(|Shaped(Entries(entries))| entries)
    }

    /// `statistics`: the numeric entries, by name; others (nested objects, text) are skipped.
    pub(crate) fn numbers<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, f64>, D::Error> {
        /// One entry's value, if it is a number.
        struct Number(Option<f64>);

        impl<'de> Deserialize<'de> for Number {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok(Self(read_scalar(deserializer, |value| value.number())?))
            }
        }

        let Shaped(Entries(entries)) = Shaped::<Entries<Number>>::deserialize(deserializer)?;
        Ok(entries
            .into_iter()
            .filter_map(|(key, Number(value))| Some((key, value?)))
            .collect())
    }

    /// A scalar as a [`Value`]; a list or an object reads as `null`, skipped without being
    /// built. A server must not make a field cost many times its size in memory (a `Value` of
    /// a list of numbers takes 32 bytes for every 2 it was sent in).
    pub(crate) fn scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        let read = |value: Scalar<'_>| {
            Some(match value {
                Scalar::Text(s) => Value::from(s),
                Scalar::Signed(n) => Value::from(n),
                Scalar::Unsigned(n) => Value::from(n),
                Scalar::Float(n) => Value::from(n),
                Scalar::Bool(b) => Value::Bool(b),
            })
        };
        Ok(read_scalar(deserializer, read)?.unwrap_or_default())
    }

    /// What a lenient reader makes of an object; anything else reads as absent, and a list
    /// is skipped without being built.
    trait Shape<'de>: Sized + Default {
        fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
    }

    /// An object read as `T`, read straight from the JSON.
    struct Object<T>(Option<T>);

    impl<T> Default for Object<T> {
        fn default() -> Self {
            Self(None)
        }
    }

    impl<'de, T: DeserializeOwned> Shape<'de> for Object<T> {
        fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(|t| Self(Some(t)))
        }
    }

    /// An object's entries, each read as `T`.
    struct Entries<T>(BTreeMap<String, T>);

    impl<T> Default for Entries<T> {
        fn default() -> Self {
            Self(BTreeMap::new())
        }
    }

    impl<'de, T: Deserialize<'de>> Shape<'de> for Entries<T> {
        fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
            BTreeMap::deserialize(MapAccessDeserializer::new(map)).map(Self)
        }
    }

    /// Reads any JSON as a [`Shape`], in one pass.
    struct Shaped<S>(S);

    impl<'de, S: Shape<'de>> Deserialize<'de> for Shaped<S> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(ShapeVisitor(PhantomData))
        }
    }

    struct ShapeVisitor<S>(PhantomData<S>);

    impl<'de, S: Shape<'de>> Visitor<'de> for ShapeVisitor<S> {
        type Value = Shaped<S>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Shaped<S>, A::Error> {
            S::from_map(map).map(Shaped)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shaped<S>, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Shaped(S::default()))
        }

        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Shaped<S>, E> {
            Ok(Shaped(S::default()))
        }

        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Shaped<S>, E> {
            Ok(Shaped(S::default()))
        }

        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Shaped<S>, E> {
            Ok(Shaped(S::default()))
        }

        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Shaped<S>, E> {
            Ok(Shaped(S::default()))
        }

        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Shaped<S>, E> {
            Ok(Shaped(S::default()))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Shaped<S>, E> {
            Ok(Shaped(S::default()))
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Shaped<S>, E> {
            Ok(Shaped(S::default()))
        }
    }
}

/// What the JSON of a whole answer opens with. Checked before decoding, because serde also
/// reads an array as a struct (field by field), which would let `[null]` pass as an empty page.
pub(crate) trait Shape {
    /// `b'{'` for objects, `b'['` for lists.
    const OPENING: u8;

    /// The error keys the answer carried; none for a list.
    fn reported(&self) -> Reported {
        Reported::default()
    }
}

/// A whole answer that is a list (`profiles.json`), read like every list of an answer
/// ([`lenient::list`]): at most [`MAX_ITEMS`] items.
#[derive(Debug)]
pub(crate) struct List<T>(pub Vec<T>);

impl<T> Shape for List<T> {
    const OPENING: u8 = b'[';
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for List<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        lenient::list(deserializer).map(List)
    }
}

/// The most items a list of an answer may have: a hundred times Buffer's largest page (100
/// updates), as the body cap is. An item decoded takes far more memory than the `{},` it may
/// be sent as, so a body under the cap could otherwise cost gigabytes.
pub(crate) const MAX_ITEMS: usize = 10_000;

/// The keys a classic error answer is told by. Buffer's own clients read `code` and `error`,
/// others `message` and `success`, so all four are accepted and none is required. Every wire
/// struct reads them too, in the same pass as its own fields, so telling a 2xx error from an
/// answer costs no search of the body.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Reported {
    #[serde(default, deserialize_with = "lenient::code")]
    pub(crate) code: Option<u16>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub(crate) error: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub(crate) message: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub(crate) success: Option<bool>,
}

/// Declares a wire struct whose every field is optional and read by a [`lenient`] function,
/// and which keeps the [`Reported`] keys of the object it was read from.
macro_rules! wire {
    ($(#[$meta:meta])* struct $name:ident { $( $field:ident $(as $wire:literal)? : $ty:ty = $with:literal, )* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize)]
        pub(crate) struct $name {
            $(
                #[serde(default, deserialize_with = $with $(, rename = $wire)?)]
                pub(crate) $field: $ty,
            )*
            #[serde(default, rename = "code", deserialize_with = "lenient::code")]
            pub(crate) reported_code: Option<u16>,
            #[serde(default, rename = "error", deserialize_with = "lenient::text")]
            pub(crate) reported_error: Option<String>,
            #[serde(default, rename = "message", deserialize_with = "lenient::text")]
            pub(crate) reported_message: Option<String>,
            #[serde(default, rename = "success", deserialize_with = "lenient::flag")]
            pub(crate) reported_success: Option<bool>,
        }

        impl Shape for $name {
            const OPENING: u8 = b'{';

            fn reported(&self) -> Reported {
                Reported {
                    code: self.reported_code,
                    error: self.reported_error.clone(),
                    message: self.reported_message.clone(),
                    success: self.reported_success,
                }
            }
        }
    };
}

wire! {
    /// `GET user.json`.
    struct User {
        id: Option<String> = "lenient::text",
        underscore_id as "_id": Option<String> = "lenient::text",
        created_at: Option<DateTime<Utc>> = "lenient::epoch",
        plan: Option<String> = "lenient::text",
        timezone: Option<String> = "lenient::text",
        name: Option<String> = "lenient::text",
    }
}

wire! {
    /// A profile (`GET profiles.json`, `profiles/:id.json`).
    struct Profile {
        id: Option<String> = "lenient::text",
        underscore_id as "_id": Option<String> = "lenient::text",
        service: Option<String> = "lenient::text",
        service_type: Option<String> = "lenient::text",
        service_id: Option<String> = "lenient::text",
        service_username: Option<String> = "lenient::text",
        formatted_username: Option<String> = "lenient::text",
        avatar: Option<String> = "lenient::text",
        avatar_https: Option<String> = "lenient::text",
        timezone: Option<String> = "lenient::text",
        disconnected: Option<bool> = "lenient::flag",
        created_at: Option<DateTime<Utc>> = "lenient::epoch",
        schedules: Vec<ScheduleGroup> = "lenient::list",
    }
}

wire! {
    /// One classic schedule: days that share posting times.
    struct ScheduleGroup {
        days: Vec<Day> = "lenient::list",
        times: Vec<String> = "lenient::list",
    }
}

wire! {
    /// An update.
    struct Update {
        id: Option<String> = "lenient::text",
        underscore_id as "_id": Option<String> = "lenient::text",
        profile_id: Option<String> = "lenient::text",
        profile_service: Option<Service> = "lenient::parsed",
        text: Option<String> = "lenient::text",
        status: Option<PostStatus> = "lenient::parsed",
        created_at: Option<DateTime<Utc>> = "lenient::epoch",
        updated_at: Option<DateTime<Utc>> = "lenient::epoch",
        due_at: Option<DateTime<Utc>> = "lenient::epoch",
        sent_at: Option<DateTime<Utc>> = "lenient::epoch",
        shared_now: Option<bool> = "lenient::flag",
        service_update_id: Option<String> = "lenient::text",
        media: Option<Media> = "lenient::object",
        statistics: BTreeMap<String, f64> = "lenient::numbers",
    }
}

wire! {
    /// An update's `media`. `photo` on the way in comes back as `picture`.
    struct Media {
        link: Option<String> = "lenient::text",
        title: Option<String> = "lenient::text",
        description: Option<String> = "lenient::text",
        picture: Option<String> = "lenient::text",
        photo: Option<String> = "lenient::text",
        thumbnail: Option<String> = "lenient::text",
        video: Option<String> = "lenient::text",
    }
}

wire! {
    /// A page of updates (`pending.json`, `sent.json`).
    struct UpdatePage {
        total: Option<u64> = "lenient::count",
        updates: Vec<Posted> = "lenient::list",
    }
}

/// An update read straight into the post it becomes, so a page of 100 is never held twice
/// (once as updates, once as posts). An update the model cannot take fails the page.
#[derive(Debug)]
pub(crate) struct Posted(pub(crate) Post);

impl<'de> Deserialize<'de> for Posted {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Update::deserialize(deserializer)?
            .into_post()
            .map(Posted)
            .map_err(|e| serde::de::Error::custom(e.message()))
    }
}

wire! {
    /// `{success, buffer_count, buffer_percentage, updates}`: create, reorder, shuffle.
    struct Updates {
        updates: Vec<Update> = "lenient::list",
    }
}

wire! {
    /// `{success, buffer_count, buffer_percentage, update}`: edit.
    struct Edited {
        update: Option<Update> = "lenient::object",
    }
}

wire! {
    /// `{success, message}`: destroy, share, deauthorize, schedules update. Failures were
    /// already turned into errors; the message, among the [`Reported`] keys, is only logged.
    struct Done {}
}

wire! {
    /// A page of interactions.
    struct InteractionPage {
        total: Option<u64> = "lenient::count",
        interactions: Vec<WireInteraction> = "lenient::list",
    }
}

wire! {
    /// One interaction.
    struct WireInteraction {
        id: Option<String> = "lenient::text",
        underscore_id as "_id": Option<String> = "lenient::text",
        event: Option<String> = "lenient::text",
        created_at: Option<DateTime<Utc>> = "lenient::epoch",
        interaction_id: Option<String> = "lenient::text",
        user: Option<WireInteractionUser> = "lenient::object",
    }
}

wire! {
    /// Who interacted.
    struct WireInteractionUser {
        username: Option<String> = "lenient::text",
        followers: Option<u64> = "lenient::count",
        avatar: Option<String> = "lenient::text",
        avatar_https: Option<String> = "lenient::text",
    }
}

wire! {
    /// `GET links/shares.json`.
    struct Shares {
        shares: Option<u64> = "lenient::count",
    }
}

wire! {
    /// `GET info/configuration.json`.
    struct WireConfiguration {
        services: BTreeMap<String, WireService> = "lenient::map",
        media: Option<WireMediaLimits> = "lenient::object",
    }
}

wire! {
    /// One network in the configuration.
    struct WireService {
        types: BTreeMap<String, WireServiceType> = "lenient::map",
    }
}

wire! {
    /// One account type of a network.
    struct WireServiceType {
        name: Option<String> = "lenient::text",
        character_limit: Option<u64> = "lenient::count",
        schedule_limit: Option<u64> = "lenient::count",
        supported_interactions: Vec<String> = "lenient::list",
    }
}

wire! {
    /// Picture limits.
    struct WireMediaLimits {
        picture_size_min: Option<u64> = "lenient::count",
        picture_size_max: Option<u64> = "lenient::count",
        picture_filetypes: Vec<String> = "lenient::list",
    }
}

/// `id`, or else `_id`: the one field an object cannot do without.
fn required_id(id: Option<String>, underscore_id: Option<String>, what: &str) -> Result<String> {
    id.or(underscore_id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::protocol(
                None,
                format!("the classic API sent {what} without an id"),
                String::new(),
            )
        })
}

impl User {
    pub(crate) fn into_account(self) -> Result<Account> {
        let mut account = Account::new(required_id(self.id, self.underscore_id, "a user")?);
        account.created_at = self.created_at;
        account.plan = self.plan;
        account.timezone = self.timezone;
        account.name = self.name;
        Ok(account)
    }
}

impl Profile {
    pub(crate) fn into_channel(self) -> Result<Channel> {
        let id = required_id(self.id, self.underscore_id, "a profile")?;
        let service = Service::parse(self.service.as_deref().unwrap_or_default());
        let mut channel = Channel::new(id, service, self.service_username.unwrap_or_default());
        if let Some(kind) = self.service_type {
            channel.channel_type = ChannelType::parse(&kind);
        }
        channel.display_name = self.formatted_username;
        channel.service_id = self.service_id;
        channel.avatar = self.avatar_https.or(self.avatar);
        channel.timezone = self.timezone;
        channel.is_disconnected = self.disconnected.unwrap_or(false);
        channel.created_at = self.created_at;
        channel.schedules = per_day(&self.schedules);
        Ok(channel)
    }
}

/// Classic `{days, times}` groups as the model's one entry per day.
pub(crate) fn per_day(groups: &[ScheduleGroup]) -> Vec<Schedule> {
    Schedule::expand(
        groups
            .iter()
            .map(|group| (&group.days[..], &group.times[..])),
    )
}

impl Update {
    pub(crate) fn into_post(self) -> Result<Post> {
        let id = required_id(self.id, self.underscore_id, "an update")?;
        let channel_id = self.profile_id.filter(|p| !p.is_empty()).ok_or_else(|| {
            Error::protocol(
                None,
                format!("the classic API sent update {id} without a profile_id"),
                String::new(),
            )
        })?;
        let mut post = Post::new(
            id,
            channel_id,
            self.profile_service
                .unwrap_or_else(|| Service::Unknown(String::new())),
            self.text.unwrap_or_default(),
            self.status
                .unwrap_or_else(|| PostStatus::Unknown(String::new())),
        );
        post.created_at = self.created_at;
        post.updated_at = self.updated_at;
        post.due_at = self.due_at;
        post.sent_at = self.sent_at;
        post.shared_now = self.shared_now.unwrap_or(false);
        post.service_post_id = self.service_update_id;
        post.metrics = self.statistics;
        if let Some(media) = self.media {
            (post.assets, post.link) = media.into_model();
        }
        Ok(post)
    }
}

impl Media {
    /// With a `link`, the `picture` is the link preview's; without one, it is the attached
    /// image (and `thumbnail` its thumbnail). `video` is not in Buffer's docs but is what
    /// third-party clients send; it is read in case Buffer echoes it.
    fn into_model(self) -> (Vec<Asset>, Option<Link>) {
        let picture = self.picture.or(self.photo);
        let mut assets = Vec::new();
        let link = match self.link {
            Some(url) => Some(Link {
                url,
                title: self.title,
                description: self.description,
                thumbnail: picture,
            }),
            None => {
                assets.extend(picture.map(Asset::image));
                None
            }
        };
        assets.extend(self.video.map(Asset::video));
        for asset in &mut assets {
            asset.thumbnail.clone_from(&self.thumbnail);
        }
        (assets, link)
    }
}

impl WireInteraction {
    pub(crate) fn into_interaction(self) -> Result<Interaction> {
        let id = required_id(self.id, self.underscore_id, "an interaction")?;
        let mut interaction = Interaction::new(id, self.event.unwrap_or_default());
        interaction.created_at = self.created_at;
        interaction.service_interaction_id = self.interaction_id;
        interaction.user = self.user.map(|user| {
            let mut person = InteractionUser::new(user.username.unwrap_or_default());
            person.followers = user.followers;
            person.avatar = user.avatar_https.or(user.avatar);
            person
        });
        Ok(interaction)
    }
}

impl WireConfiguration {
    pub(crate) fn into_configuration(self) -> Configuration {
        let limit = |n: Option<u64>| n.and_then(|n| u32::try_from(n).ok());
        let services = self
            .services
            .into_iter()
            .map(|(service, wire)| {
                let types = wire
                    .types
                    .into_iter()
                    .map(|(kind, t)| {
                        let limits = ServiceLimits {
                            name: t.name.unwrap_or_default(),
                            character_limit: limit(t.character_limit),
                            schedule_limit: limit(t.schedule_limit),
                            supported_interactions: t.supported_interactions,
                        };
                        (kind, limits)
                    })
                    .collect();
                (service, types)
            })
            .collect();
        Configuration {
            services,
            media: self.media.map(|m| MediaLimits {
                picture_size_min: m.picture_size_min,
                picture_size_max: m.picture_size_max,
                picture_filetypes: m.picture_filetypes,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AssetKind;

    fn update(json: &str) -> Result<Post> {
        serde_json::from_str::<Update>(json)
            .map_err(|e| Error::invalid_input(e.to_string()))?
            .into_post()
    }

    #[test]
    fn odd_field_types_read_as_absent_not_as_failures() {
        let post = update(
            r#"{"_id":"u1","profile_id":"p1","status":"archived","profile_service":"myspace",
                "created_at":"yesterday","due_at":"1320742680","sent_at":null,"shared_now":"0",
                "media":"none","statistics":{"reach":2460,"clicks":"56","by_day":{"mon":1},"x":"NaN"},
                "text":null,"extra":{"nested":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(post.id.as_str(), "u1");
        assert_eq!(post.status, PostStatus::Unknown("archived".into()));
        assert_eq!(post.service, Service::Unknown("myspace".into()));
        assert_eq!(post.created_at, None);
        assert_eq!(post.due_at.map(|t| t.timestamp()), Some(1_320_742_680));
        assert!(!post.shared_now);
        assert!(post.assets.is_empty() && post.link.is_none());
        assert_eq!(post.metrics.len(), 2);
        assert_eq!(post.metrics["clicks"], 56.0);
        assert_eq!(post.text, "");
    }

    #[test]
    fn an_update_without_id_or_profile_is_a_protocol_error() {
        for json in [
            r#"{"profile_id":"p"}"#,
            r#"{"id":"","profile_id":"p"}"#,
            r#"{"id":"u"}"#,
        ] {
            let error = update(json).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::Protocol, "{json}");
        }
    }

    #[test]
    fn a_page_with_one_update_the_model_cannot_take_fails_and_says_which() {
        let page = serde_json::from_str::<UpdatePage>(
            r#"{"total":2,"updates":[{"id":"u1","profile_id":"p"},{"id":"u2"}]}"#,
        );
        let error = page.unwrap_err().to_string();
        assert!(error.contains("update u2 without a profile_id"), "{error}");
        let page: UpdatePage =
            serde_json::from_str(r#"{"updates":[{"id":7,"profile_id":"p","status":"sent"}]}"#)
                .unwrap();
        assert_eq!(page.updates[0].0.id.as_str(), "7");
        assert_eq!(page.updates[0].0.status, PostStatus::Sent);
    }

    #[test]
    fn media_picture_is_an_image_or_the_link_preview() {
        let image = update(
            r#"{"id":"u","profile_id":"p","media":{"picture":"https://x/p.png","thumbnail":"https://x/t.png"}}"#,
        )
        .unwrap();
        assert_eq!(image.assets[0].kind, AssetKind::Image);
        assert_eq!(
            image.assets[0].thumbnail.as_deref(),
            Some("https://x/t.png")
        );
        let link = update(
            r#"{"id":"u","profile_id":"p","media":{"link":"https://x","title":"X","picture":"https://x/p.png"}}"#,
        )
        .unwrap();
        assert!(link.assets.is_empty());
        let link = link.link.unwrap();
        assert_eq!(link.thumbnail.as_deref(), Some("https://x/p.png"));
        assert_eq!(link.title.as_deref(), Some("X"));
    }

    #[test]
    fn a_user_name_is_kept_when_the_body_has_one() {
        let user: User = serde_json::from_str(r#"{"id":"u","name":"Jo","plan":"free"}"#).unwrap();
        assert_eq!(user.into_account().unwrap().name.as_deref(), Some("Jo"));
        let user: User = serde_json::from_str(r#"{"id":"u","plan":"free"}"#).unwrap();
        assert_eq!(user.into_account().unwrap().name, None);
    }

    #[test]
    fn disconnected_reads_null_bools_and_strings() {
        for (value, expected) in [
            ("null", false),
            ("true", true),
            ("false", false),
            (r#""2019-03-01""#, true),
            (r#""""#, false),
        ] {
            let profile: Profile =
                serde_json::from_str(&format!(r#"{{"id":"p","disconnected":{value}}}"#)).unwrap();
            assert_eq!(
                profile.into_channel().unwrap().is_disconnected,
                expected,
                "{value}"
            );
        }
    }
}
