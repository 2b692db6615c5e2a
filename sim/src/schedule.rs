//! Queue slots: the posting times a channel's schedule gives, in its own timezone.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::{Channel, Day, DaySchedule};

/// How far ahead to look for slots before giving up (a schedule with no times has none).
const HORIZON_DAYS: i64 = 400;

/// Parses `"HH:MM"` (24-hour; `"24:00"` is accepted as the end of the day, as Buffer's own
/// encoder examples send it).
pub(crate) fn parse_time(text: &str) -> Option<(u32, u32)> {
    let (h, m) = text.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return None;
    }
    Some((h, m))
}

/// The channel's timezone, UTC when the name is unknown.
pub(crate) fn timezone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// The first `count` slots strictly after `after`, in time order.
pub(crate) fn next_slots(
    channel: &Channel,
    after: DateTime<Utc>,
    count: usize,
) -> Vec<DateTime<Utc>> {
    let mut slots = Vec::with_capacity(count);
    if count == 0 {
        return slots;
    }
    let tz = timezone(&channel.timezone);
    let first_day = after.with_timezone(&tz).date_naive();
    for offset in 0..HORIZON_DAYS {
        let date = first_day + TimeDelta::days(offset);
        for instant in day_slots(&channel.schedule, date, tz) {
            if instant > after {
                slots.push(instant);
                if slots.len() == count {
                    return slots;
                }
            }
        }
    }
    slots
}

fn day_slots(schedule: &[DaySchedule], date: NaiveDate, tz: Tz) -> Vec<DateTime<Utc>> {
    let day = Day::from_chrono(date.weekday());
    let mut out: Vec<DateTime<Utc>> = schedule
        .iter()
        .filter(|entry| entry.day == day && !entry.paused)
        .flat_map(|entry| entry.times.iter())
        .filter_map(|time| parse_time(time))
        .filter_map(|(h, m)| {
            let naive = if h == 24 {
                (date + TimeDelta::days(1)).and_time(NaiveTime::MIN)
            } else {
                date.and_hms_opt(h, m, 0)?
            };
            // A time skipped by a DST jump has no slot that day; a repeated one takes the first.
            tz.from_local_datetime(&naive)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Builds a weekly schedule with the same times on the given days.
pub fn weekly(days: &[Day], times: &[&str]) -> Vec<DaySchedule> {
    let mut times: Vec<String> = times.iter().map(|t| (*t).to_owned()).collect();
    times.sort();
    days.iter()
        .map(|day| DaySchedule {
            day: *day,
            times: times.clone(),
            paused: false,
        })
        .collect()
}
