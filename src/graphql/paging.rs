//! Offset pages and page tokens over cursor pagination, with no cursor kept between calls.
//!
//! GraphQL listings go forward only, by opaque cursor; a classic caller asks for "page 50 of
//! 20". A cursor is only right for the moment it was read: once a post before it is deleted,
//! created or moved, "the cursor that starts page 50" starts somewhere else. So nothing here
//! outlives one call, and each request means what it says at the moment it is sent:
//!
//! - a token from this backend carries its cursor and resumes right after the last item its
//!   page held, in one request (the walk that made it lives in the token, which the caller
//!   holds: [`Pager`](crate::Pager), [`all_posts`](crate::BackendExt::all_posts));
//! - an offset (a page number, or a token of the other backend) is counted from the start of
//!   the listing as it is now: the walk asks for cursors only, 100 at a time, and the last
//!   request fetches the page together with the items still to skip. Page `p` of `n` costs
//!   ⌈p·n / 100⌉ requests, the fewest the API's page cap allows.
//!
//! Pages never hold wrong items: a token is checked against its listing, a server that sends
//! more items than asked is cut back, and a walk stops (treating the listing as ended) when a
//! cursor repeats or the server says "more" without saying where.

use crate::backend::BackendKind;
use crate::model::{MAX_PAGE_SIZE, Page, PageRequest, PageToken};
use crate::{Error, Result};
use std::collections::HashSet;
use std::future::Future;

/// One response of a cursor-paged listing.
#[derive(Debug)]
pub(super) struct Chunk<T> {
    /// The items, in listing order.
    pub items: Vec<T>,
    /// Each item's cursor, in the same order.
    pub cursors: Vec<String>,
    /// Whether the server says more items follow.
    pub has_next: bool,
    /// The server's cursor after the last item.
    pub end_cursor: Option<String>,
}

impl<T> Chunk<T> {
    /// Refuses a chunk whose items and cursors do not pair up, and cuts one that holds more
    /// than `first` items back to `first` (more follow then, after the last one kept).
    fn checked(mut self, first: u32) -> Result<Self> {
        if self.cursors.len() != self.items.len() {
            return Err(Error::unexpected(
                "a page's items and cursors do not match".to_owned(),
            ));
        }
        let first = first as usize;
        if self.items.len() > first {
            self.items.truncate(first);
            self.cursors.truncate(first);
            self.has_next = true;
            self.end_cursor = self.cursors.last().cloned();
        }
        Ok(self)
    }
}

/// A listing the GraphQL API pages by cursor: posts of a channel, ideas of an organization.
pub(super) trait Listing: Sync {
    /// What the listing yields.
    type Item: Send;

    /// What identifies the listing apart from its page (see [`PageToken`]).
    fn scope(&self) -> String;

    /// Up to `first` items after `after`.
    fn fetch(
        &self,
        first: u32,
        after: Option<String>,
    ) -> impl Future<Output = Result<Chunk<Self::Item>>> + Send;

    /// Up to `first` cursors after `after`, as cheaply as the API allows.
    fn skip(
        &self,
        first: u32,
        after: Option<String>,
    ) -> impl Future<Output = Result<Chunk<()>>> + Send;
}

/// Reads one page of `listing`.
pub(super) async fn page<L: Listing>(listing: &L, request: &PageRequest) -> Result<Page<L::Item>> {
    request.validate()?;
    let scope = listing.scope();
    let size = request.size();
    if let PageRequest::After { token, .. } = request {
        token.check_scope(&scope)?;
        if let (BackendKind::GraphQl, Some(cursor)) = (token.backend(), token.cursor()) {
            let chunk = listing.fetch(size, Some(cursor.to_owned())).await?;
            return finish(chunk.checked(size)?, token.offset(), Some(cursor), &scope);
        }
    }
    // An offset, or a token that has no cursor of ours: count from the start.
    seek(listing, request.start(), size, &scope).await
}

/// The `size` items from item `start` (from 0) of the listing as it is now.
async fn seek<L: Listing>(
    listing: &L,
    start: u64,
    size: u32,
    scope: &str,
) -> Result<Page<L::Item>> {
    let mut passed = 0u64;
    let mut after: Option<String> = None;
    let mut walked = HashSet::new();
    loop {
        let gap = start - passed;
        if gap + u64::from(size) <= u64::from(MAX_PAGE_SIZE) {
            // The rest of the walk and the page fit in one request.
            let first = (gap as u32) + size;
            let mut chunk = listing.fetch(first, after.clone()).await?.checked(first)?;
            let fetched = chunk.items.len() as u64;
            if fetched > gap || !chunk.has_next {
                let gap = (gap as usize).min(chunk.items.len());
                chunk.items.drain(..gap);
                let skipped: Vec<String> = chunk.cursors.drain(..gap).collect();
                let after = skipped.last().cloned().or(after);
                return finish(chunk, start, after.as_deref(), scope);
            }
            // A server with a smaller page cap than asked: go on walking.
            after = advance(&mut walked, chunk.cursors.last(), scope);
            passed += fetched;
        } else {
            let first = (gap.min(u64::from(MAX_PAGE_SIZE))) as u32;
            let chunk = listing.skip(first, after.clone()).await?.checked(first)?;
            if !chunk.has_next {
                // At most `gap` items were left: the listing ends before `start`.
                return Ok(Page::new(Vec::new(), None, None));
            }
            passed += chunk.items.len() as u64;
            after = advance(&mut walked, chunk.cursors.last(), scope);
        }
        if after.is_none() {
            return Ok(Page::new(Vec::new(), None, None));
        }
    }
}

/// The cursor to walk on from: `last`, unless the server gave none or one this walk already
/// passed (a server going round in circles), where the walk ends rather than loop.
fn advance(walked: &mut HashSet<String>, last: Option<&String>, scope: &str) -> Option<String> {
    match last {
        Some(last) if walked.insert(last.clone()) => Some(last.clone()),
        _ => {
            tracing::warn!(
                scope,
                "the server says more items follow but gave no new cursor; treating the listing as ended"
            );
            None
        }
    }
}

/// The page of a checked chunk read after `after`, starting at item `start`, with the token of
/// the next page and the loop guards applied.
fn finish<T>(chunk: Chunk<T>, start: u64, after: Option<&str>, scope: &str) -> Result<Page<T>> {
    let Chunk {
        items,
        has_next,
        end_cursor,
        ..
    } = chunk;
    let next = match (has_next, end_cursor) {
        (false, _) => None,
        (true, None) => {
            tracing::warn!(
                scope,
                "the server says more items follow but gave no cursor; treating this page as the last"
            );
            None
        }
        (true, Some(_)) if items.is_empty() => {
            tracing::warn!(
                scope,
                "the server says more items follow after an empty page; treating it as the last"
            );
            None
        }
        (true, Some(cursor)) if Some(cursor.as_str()) == after => {
            tracing::warn!(
                scope,
                "the server repeated a cursor; treating this page as the last"
            );
            None
        }
        (true, Some(cursor)) => Some(PageToken::new(
            BackendKind::GraphQl,
            scope,
            start + items.len() as u64,
            Some(cursor),
        )),
    };
    Ok(Page::new(items, None, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A listing of numbers whose cursors are `c<number>`, counting its requests; its items
    /// can change between requests, as a queue does.
    struct Numbers {
        items: Mutex<Vec<usize>>,
        fetches: AtomicUsize,
        skips: AtomicUsize,
        fetched_items: AtomicUsize,
    }

    impl Numbers {
        fn new(len: usize) -> Self {
            Self {
                items: Mutex::new((0..len).collect()),
                fetches: AtomicUsize::new(0),
                skips: AtomicUsize::new(0),
                fetched_items: AtomicUsize::new(0),
            }
        }

        fn requests(&self) -> (usize, usize) {
            (
                self.skips.load(Ordering::SeqCst),
                self.fetches.load(Ordering::SeqCst),
            )
        }

        /// Like Buffer: after the item a cursor names.
        fn chunk(&self, first: u32, after: Option<String>) -> Chunk<usize> {
            let all = self.items.lock().unwrap();
            let start = after.map_or(0, |c| {
                let anchor: usize = c[1..].parse().unwrap();
                all.iter().position(|i| *i == anchor).unwrap() + 1
            });
            let end = (start + first as usize).min(all.len());
            let items: Vec<usize> = all[start..end].to_vec();
            Chunk {
                cursors: items.iter().map(|i| format!("c{i}")).collect(),
                has_next: end < all.len(),
                end_cursor: items.last().map(|i| format!("c{i}")),
                items,
            }
        }
    }

    impl Listing for Numbers {
        type Item = usize;

        fn scope(&self) -> String {
            "numbers".to_owned()
        }

        async fn fetch(&self, first: u32, after: Option<String>) -> Result<Chunk<usize>> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let chunk = self.chunk(first, after);
            self.fetched_items
                .fetch_add(chunk.items.len(), Ordering::SeqCst);
            Ok(chunk)
        }

        async fn skip(&self, first: u32, after: Option<String>) -> Result<Chunk<()>> {
            self.skips.fetch_add(1, Ordering::SeqCst);
            let chunk = self.chunk(first, after);
            Ok(Chunk {
                items: vec![(); chunk.items.len()],
                cursors: chunk.cursors,
                has_next: chunk.has_next,
                end_cursor: chunk.end_cursor,
            })
        }
    }

    fn block<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn pages_read_by_token_cost_one_request_each() {
        let listing = Numbers::new(95);
        let mut request = PageRequest::first(20);
        let mut seen = Vec::new();
        block(async {
            loop {
                let got = page(&listing, &request).await.unwrap();
                seen.extend(got.items);
                match got.next {
                    Some(token) => request = PageRequest::after(token, 20),
                    None => break,
                }
            }
        });
        assert_eq!(seen, (0..95).collect::<Vec<_>>());
        assert_eq!(listing.requests(), (0, 5));
    }

    #[test]
    fn an_offset_is_counted_from_the_start_with_the_fewest_requests() {
        for (number, size, skips) in [(1, 20, 0), (5, 20, 0), (6, 20, 1), (50, 20, 9), (3, 100, 2)]
        {
            let listing = Numbers::new(5000);
            let got = block(page(&listing, &PageRequest::offset(number, size))).unwrap();
            let start = (number as usize - 1) * size as usize;
            assert_eq!(
                got.items,
                (start..start + size as usize).collect::<Vec<_>>()
            );
            assert_eq!(
                got.next.as_ref().unwrap().offset(),
                (start + size as usize) as u64
            );
            // ⌈(start + size) / 100⌉ requests: cursors only, then the page with what is left to
            // skip.
            assert_eq!(listing.requests(), (skips, 1), "page {number} of {size}");
            assert!(listing.fetched_items.load(Ordering::SeqCst) <= 100);
        }
    }

    #[test]
    fn nothing_is_remembered_between_calls() {
        let listing = Numbers::new(60);
        let before = block(page(&listing, &PageRequest::offset(4, 5))).unwrap();
        assert_eq!(before.items, [15, 16, 17, 18, 19]);
        listing.items.lock().unwrap().drain(..10);
        let again = block(page(&listing, &PageRequest::offset(4, 5))).unwrap();
        assert_eq!(
            again.items,
            [25, 26, 27, 28, 29],
            "what is at offset 15 now"
        );
        // The old token resumes after the last item its page held.
        let after = block(page(&listing, &PageRequest::after(before.next.unwrap(), 5))).unwrap();
        assert_eq!(after.items, [20, 21, 22, 23, 24]);
    }

    #[test]
    fn an_offset_past_the_end_is_an_empty_last_page() {
        for (len, number) in [(30, 9), (300, 16), (300, 31), (100, 6), (0, 1)] {
            let listing = Numbers::new(len);
            let got = block(page(&listing, &PageRequest::offset(number, 20))).unwrap();
            assert!(got.items.is_empty() && got.next.is_none(), "{len} {number}");
        }
    }

    #[test]
    fn a_classic_token_goes_by_its_offset_and_another_query_fails() {
        let listing = Numbers::new(100);
        let classic = PageToken::new(BackendKind::ClassicRest, "numbers", 40, None);
        let got = block(page(&listing, &PageRequest::after(classic, 10))).unwrap();
        assert_eq!(got.items[0], 40);
        let foreign = PageToken::new(BackendKind::GraphQl, "letters", 40, Some("c39".into()));
        let refused = block(page(&listing, &PageRequest::after(foreign, 10)));
        assert!(matches!(refused, Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn guards_stop_on_a_missing_or_repeated_cursor() {
        let chunk = |end_cursor: Option<&str>| Chunk {
            items: vec![1, 2],
            cursors: vec!["a".into(), "b".into()],
            has_next: true,
            end_cursor: end_cursor.map(str::to_owned),
        };
        let next = |page: Page<i32>| page.next.and_then(|t| t.cursor().map(str::to_owned));
        assert_eq!(
            next(finish(chunk(Some("b")), 0, None, "s").unwrap()).as_deref(),
            Some("b")
        );
        assert_eq!(
            next(finish(chunk(Some("b")), 0, Some("b"), "s").unwrap()),
            None
        );
        assert_eq!(next(finish(chunk(None), 0, None, "s").unwrap()), None);
        let empty = Chunk::<u8> {
            items: vec![],
            cursors: vec![],
            has_next: true,
            end_cursor: Some("z".into()),
        };
        assert!(finish(empty, 0, None, "s").unwrap().next.is_none());
        // Too many items: cut to the page, continue after the page's last item.
        let cut = chunk(Some("b")).checked(1).unwrap();
        let page = finish(cut, 0, None, "s").unwrap();
        assert_eq!(page.items, vec![1]);
        assert_eq!(page.next.unwrap().cursor(), Some("a"));
        let mismatched = Chunk {
            items: vec![1],
            cursors: vec![],
            has_next: false,
            end_cursor: None,
        };
        assert!(mismatched.checked(5).is_err());
    }
}
