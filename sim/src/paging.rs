//! Serving one page of a sorted listing without sorting, cloning or rendering the whole list:
//! a single pass over the store keeps only the candidates that can still land on the page, so a
//! page costs one linear scan and memory in proportion to the page, however large the store.

use std::cmp::Ordering;

/// The `k` smallest items by `order`, sorted; memory stays within `2k` items.
///
/// Candidates are gathered up to `2k`, then cut back to the `k` smallest with a linear-time
/// selection, so the whole pass is linear in the number of items.
pub(crate) fn smallest<T>(
    items: impl Iterator<Item = T>,
    k: usize,
    order: impl Fn(&T, &T) -> Ordering,
) -> Vec<T> {
    if k == 0 {
        return Vec::new();
    }
    let limit = k.saturating_mul(2);
    let mut kept = Vec::new();
    for item in items {
        kept.push(item);
        if kept.len() >= limit {
            kept.select_nth_unstable_by(k - 1, &order);
            kept.truncate(k);
        }
    }
    kept.sort_by(&order);
    kept.truncate(k);
    kept
}

/// The items of the page at zero-based `skip`, at most `count` of them, in `order`.
pub(crate) fn offset_page<T>(
    items: impl Iterator<Item = T>,
    skip: usize,
    count: usize,
    order: impl Fn(&T, &T) -> Ordering,
) -> Vec<T> {
    let mut page = smallest(items, skip.saturating_add(count), order);
    page.drain(..skip.min(page.len()));
    page
}

/// One page of a cursor listing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CursorPage<T> {
    /// Position of the first item in the whole sorted listing (what its cursor encodes).
    pub(crate) start: usize,
    /// The page's items, in order.
    pub(crate) items: Vec<T>,
    /// Whether items follow the page.
    pub(crate) has_next: bool,
}

/// Where a cursor page begins: after the item with this id, or, when that item has left the
/// listing, after the position the cursor recorded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct After<'c> {
    pub(crate) offset: usize,
    pub(crate) id: &'c str,
}

/// The `first` items that follow `after` (from the start without it) in `order`, which must be
/// a total order (ties broken by id) so that "after an item" is well defined.
pub(crate) fn cursor_page<'i, T: Copy + 'i>(
    items: impl Iterator<Item = T> + Clone,
    id_of: impl Fn(T) -> &'i str,
    order: impl Fn(&T, &T) -> Ordering,
    after: Option<After<'_>>,
    first: usize,
) -> CursorPage<T> {
    let wanted = first.saturating_add(1);
    let anchor = after.and_then(|a| items.clone().find(|item| id_of(*item) == a.id));
    let (start, mut items) = match (after, anchor) {
        (None, _) => (0, smallest(items, wanted, order)),
        (Some(_), Some(anchor)) => {
            // One pass: count what sorts up to the anchor, keep the best of what follows it.
            let mut start = 0;
            let following = items.filter(|item| {
                let after_anchor = order(item, &anchor) == Ordering::Greater;
                start += usize::from(!after_anchor);
                after_anchor
            });
            let items = smallest(following, wanted, &order);
            (start, items)
        }
        (Some(a), None) => {
            let start = a.offset.saturating_add(1);
            (start, offset_page(items, start, wanted, order))
        }
    };
    let has_next = items.len() > first;
    items.truncate(first);
    CursorPage {
        start,
        items,
        has_next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scrambled distinct numbers, to page through in ascending order.
    fn numbers(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{:05}", (i * 7919) % n)).collect()
    }

    fn reference(all: &[String], skip: usize, count: usize) -> Vec<&String> {
        let mut sorted: Vec<&String> = all.iter().collect();
        sorted.sort();
        sorted.into_iter().skip(skip).take(count).collect()
    }

    #[test]
    fn smallest_and_offset_pages_match_a_full_sort() {
        let all = numbers(1009);
        for (skip, count) in [(0, 0), (0, 1), (0, 100), (300, 100), (1000, 100), (2000, 5)] {
            let page = offset_page(all.iter(), skip, count, |a, b| a.cmp(b));
            assert_eq!(
                page,
                reference(&all, skip, count),
                "skip {skip} count {count}"
            );
        }
    }

    #[test]
    fn cursor_pages_walk_the_whole_listing_in_order() {
        let all = numbers(1009);
        let mut walked = Vec::new();
        let mut after: Option<(usize, String)> = None;
        loop {
            let page = cursor_page(
                all.iter(),
                |s| s.as_str(),
                |a, b| a.cmp(b),
                after.as_ref().map(|(offset, id)| After {
                    offset: *offset,
                    id,
                }),
                100,
            );
            assert_eq!(page.start, walked.len());
            walked.extend(page.items.iter().map(|s| s.as_str()));
            let Some(last) = page.items.last() else {
                break;
            };
            after = Some((page.start + page.items.len() - 1, last.to_string()));
            if !page.has_next {
                break;
            }
        }
        let expected: Vec<&str> = reference(&all, 0, all.len())
            .into_iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(walked, expected);
    }

    #[test]
    fn a_cursor_whose_item_left_resumes_at_its_recorded_position() {
        let all = numbers(50);
        let page = cursor_page(
            all.iter(),
            |s| s.as_str(),
            |a, b| a.cmp(b),
            Some(After {
                offset: 9,
                id: "gone",
            }),
            5,
        );
        assert_eq!(page.start, 10);
        assert_eq!(page.items, reference(&all, 10, 5));
        assert!(page.has_next);
        let past_the_end = cursor_page(
            all.iter(),
            |s| s.as_str(),
            |a, b| a.cmp(b),
            Some(After {
                offset: usize::MAX,
                id: "gone",
            }),
            5,
        );
        assert!(past_the_end.items.is_empty() && !past_the_end.has_next);
    }
}
