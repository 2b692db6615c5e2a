//! Offset pages: turning any [`PageRequest`] into the classic `page` and `count` parameters,
//! and the answer into a [`Page`] with a continuation token.
//!
//! The classic API can only read page `p` of `count` items. A continuation token may start
//! anywhere, though: a GraphQL token, or a classic one after a short page, can resume at
//! offset 30 with a page size of 20, which no `(page, 20)` reaches. Rather than refuse, the
//! bridge picks the `count` (1 to 100) whose page holds the most of the wanted items from
//! that offset on, and cuts the answer to them. The result is exact (no item skipped or
//! repeated) and costs one request; when no page holds the whole window, the page comes back
//! shorter and its token continues where it stopped.

use crate::backend::BackendKind;
use crate::model::{MAX_PAGE_SIZE, Page, PageRequest, PageToken};
use crate::{Error, Result};

/// The classic page to ask for, and which of its items make up the requested page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// The classic `page` parameter, from 1.
    pub page: u32,
    /// The classic `count` parameter.
    pub count: u32,
    /// The offset of the first wanted item in the whole listing.
    start: u64,
    /// How many of the answer's items come before the wanted ones.
    skip: usize,
    /// How many items are wanted.
    take: usize,
}

impl Window {
    /// The window for `request` in the listing identified by `scope`. Refuses sizes the API
    /// refuses and tokens from another listing before anything is sent.
    pub(crate) fn of(request: &PageRequest, scope: &str) -> Result<Self> {
        request.validate()?;
        if let PageRequest::After { token, .. } = request {
            token.check_scope(scope)?;
        }
        let start = request.start();
        let size = u64::from(request.size());
        // Items of the wanted window inside the page of `count` that holds `start`; the
        // smallest count wins a tie, so an aligned request is sent exactly as asked.
        let (count, take) = (1..=u64::from(MAX_PAGE_SIZE))
            .map(|count| (count, (count - start % count).min(size)))
            .fold((1, 0), |best, candidate| {
                if candidate.1 > best.1 {
                    candidate
                } else {
                    best
                }
            });
        let page = u32::try_from(start / count + 1).map_err(|_| {
            Error::invalid_input(format!(
                "offset {start} is beyond what the classic API can page to"
            ))
        })?;
        Ok(Self {
            page,
            // Both at most 100: they came from 1..=MAX_PAGE_SIZE and a validated size.
            count: count as u32,
            start,
            skip: (start % count) as usize,
            take: take as usize,
        })
    }

    /// The requested page out of the classic answer: its items cut to the window, the total,
    /// and a token when items remain (by `total` when the API gave one, else when the page
    /// came back full).
    pub(crate) fn page<T>(&self, scope: &str, items: Vec<T>, total: Option<u64>) -> Page<T> {
        let full = items.len() >= self.count as usize;
        let items: Vec<T> = items.into_iter().skip(self.skip).take(self.take).collect();
        let next_offset = self.start + items.len() as u64;
        let more = match total {
            Some(total) => next_offset < total,
            None => full,
        };
        let next = (more && !items.is_empty())
            .then(|| PageToken::new(BackendKind::ClassicRest, scope, next_offset, None));
        Page::new(items, total, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(offset: u64, size: u32) -> PageRequest {
        PageRequest::after(
            PageToken::new(BackendKind::GraphQl, "s", offset, Some("cursor".into())),
            size,
        )
    }

    #[test]
    fn offset_requests_go_out_as_asked() {
        let window = Window::of(&PageRequest::offset(3, 20), "s").unwrap();
        assert_eq!(
            (window.page, window.count, window.skip, window.take),
            (3, 20, 0, 20)
        );
        let window = Window::of(&after(40, 20), "s").unwrap();
        assert_eq!((window.page, window.count), (3, 20));
    }

    #[test]
    fn unaligned_offsets_read_an_enclosing_page_and_cut_it() {
        // Items 30..50: page 2 of 25 is items 25..50.
        let window = Window::of(&after(30, 20), "s").unwrap();
        assert_eq!(
            (window.page, window.count, window.skip, window.take),
            (2, 25, 5, 20)
        );
        let items: Vec<u64> = (25..50).collect();
        let page = window.page("s", items, Some(100));
        assert_eq!(page.items, (30..50).collect::<Vec<_>>());
        assert_eq!(page.next.unwrap().offset(), 50);
    }

    #[test]
    fn when_no_page_holds_the_window_the_page_is_shorter_but_exact() {
        let window = Window::of(&after(50, 100), "s").unwrap();
        assert_eq!(
            (window.page, window.count, window.skip, window.take),
            (2, 50, 0, 50)
        );
        let page = window.page("s", (50..100).collect::<Vec<u64>>(), Some(300));
        assert_eq!(page.items.len(), 50);
        assert_eq!(page.next.unwrap().offset(), 100);
    }

    #[test]
    fn every_window_is_exact() {
        for start in 0..260u64 {
            for size in [1, 7, 20, 33, 99, 100] {
                let window = Window::of(&after(start, size), "s").unwrap();
                let first = u64::from(window.page - 1) * u64::from(window.count);
                let listing: Vec<u64> = (first..first + u64::from(window.count)).collect();
                let page = window.page("s", listing, Some(10_000));
                assert_eq!(page.items.first(), Some(&start), "{start}/{size}");
                assert!(page.items.windows(2).all(|w| w[1] == w[0] + 1));
                assert!(page.items.len() as u32 <= size);
            }
        }
    }

    #[test]
    fn last_pages_and_empty_pages_end_the_listing() {
        let window = Window::of(&PageRequest::first(10), "s").unwrap();
        assert!(window.page("s", vec![1; 10], Some(10)).next.is_none());
        assert!(window.page("s", vec![1; 10], None).next.is_some());
        assert!(window.page("s", vec![1; 9], None).next.is_none());
        assert!(window.page("s", Vec::<u8>::new(), Some(50)).next.is_none());
    }

    #[test]
    fn foreign_tokens_and_bad_sizes_are_refused() {
        assert!(Window::of(&after(0, 10), "other").is_err());
        assert!(Window::of(&PageRequest::first(101), "s").is_err());
        assert!(Window::of(&after(u64::MAX / 2, 1), "s").is_err());
    }
}
