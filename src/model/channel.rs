//! Channels (classic: profiles) and their posting schedules.

use super::{ChannelId, ChannelType, Day, OrganizationId, Service};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A connected social account that posts are published to.
#[doc(alias = "profile")]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Channel {
    /// The channel id (equal to the classic profile id).
    pub id: ChannelId,
    /// The network.
    pub service: Service,
    /// What kind of account it is on the network.
    pub channel_type: ChannelType,
    /// The handle on the network (classic `service_username`, GraphQL `name`).
    pub name: String,
    /// The name shown to people (classic `formatted_username`, GraphQL `displayName`).
    pub display_name: Option<String>,
    /// The account's id on the network.
    pub service_id: Option<String>,
    /// The avatar URL.
    pub avatar: Option<String>,
    /// The IANA timezone that schedule times are in.
    pub timezone: Option<String>,
    /// The organization that owns the channel (GraphQL only).
    pub organization_id: Option<OrganizationId>,
    /// Whether the channel has lost its connection to the network.
    pub is_disconnected: bool,
    /// When the channel was connected.
    pub created_at: Option<DateTime<Utc>>,
    /// The posting schedule, one entry per day; see [`Schedule`].
    pub schedules: Vec<Schedule>,
}

impl Channel {
    /// A channel with its id, network and handle; the rest is left empty.
    pub fn new(id: impl Into<ChannelId>, service: Service, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            service,
            channel_type: ChannelType::Profile,
            name: name.into(),
            display_name: None,
            service_id: None,
            avatar: None,
            timezone: None,
            organization_id: None,
            is_disconnected: false,
            created_at: None,
            schedules: Vec::new(),
        }
    }
}

/// The posting times of one day.
///
/// The classic API groups days that share times (`{days: [mon, tue], times: [...]}`) while
/// GraphQL lists each day on its own (`{day, times, paused}`). The model keeps the GraphQL form,
/// one entry per day in week order, so both backends produce the same value for the same
/// schedule; [`Schedule::expand`] turns classic groups into it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Schedule {
    /// The day.
    pub day: Day,
    /// Posting times, `"HH:MM"` in the channel's timezone, in the order Buffer gave them.
    pub times: Vec<String>,
    /// Whether posting is paused on this day (GraphQL only; classic schedules are never paused).
    pub paused: bool,
}

impl Schedule {
    /// One day's posting times.
    pub fn new(day: Day, times: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            day,
            times: times.into_iter().map(Into::into).collect(),
            paused: false,
        }
    }

    /// Turns classic `(days, times)` groups into one entry per day, in week order. A day named
    /// in several groups gets the times of all of them.
    pub fn expand<'a>(
        groups: impl IntoIterator<Item = (&'a [Day], &'a [String])>,
    ) -> Vec<Schedule> {
        let mut days: Vec<Schedule> = Vec::new();
        for (group_days, times) in groups {
            for day in group_days {
                match days.iter_mut().find(|s| &s.day == day) {
                    Some(existing) => existing.times.extend(times.iter().cloned()),
                    None => days.push(Schedule::new(day.clone(), times.iter().cloned())),
                }
            }
        }
        days.sort_by_key(|s| s.day.clone());
        days
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_groups_expand_to_one_entry_per_day_in_week_order() {
        let weekend = [Day::Sun, Day::Sat];
        let weekdays = [Day::Mon];
        let late = ["21:00".to_owned()];
        let noon = ["12:00".to_owned()];
        let days = Schedule::expand([(&weekend[..], &late[..]), (&weekdays[..], &noon[..])]);
        let order: Vec<_> = days.iter().map(|s| s.day.as_str()).collect();
        assert_eq!(order, ["mon", "sat", "sun"]);
        assert_eq!(days[1].times, ["21:00"]);
    }
}
