//! Offset pages over cursor pagination, without walking from the start every time.
//!
//! GraphQL listings go forward only, by opaque cursor. A classic caller asks for "page 50 of
//! 20". Walking there one page at a time costs 50 requests; instead the backend keeps, per
//! listing and page size, the cursor that starts each page it has seen. Reading pages in order
//! costs one request a page; a jump walks from the nearest known cursor with the largest page
//! the API serves (100), asking for cursors only, then fetches the page.
//!
//! Pages never hold wrong items: a token is checked against its listing, a server that sends
//! more items than asked is cut back, and a walk stops (treating the listing as ended) when a
//! cursor repeats or the server says "more" without saying where.

use crate::backend::BackendKind;
use crate::model::{MAX_PAGE_SIZE, Page, PageRequest, PageToken};
use crate::{Error, Result};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Mutex;

use super::wire::lock;

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

/// Listings remembered at most; past that the cache starts over.
const MAX_LISTINGS: usize = 256;
/// Cursors remembered per listing and page size at most.
const MAX_CURSORS: usize = 10_000;

/// Known cursors: for each listing and page size, the cursor after which item `offset` starts.
#[derive(Debug, Default)]
pub(super) struct CursorCache {
    listings: Mutex<HashMap<(String, u32), BTreeMap<u64, String>>>,
}

impl CursorCache {
    /// The known position closest before `offset`: `(0, None)` is the start.
    fn nearest(&self, scope: &str, size: u32, offset: u64) -> (u64, Option<String>) {
        lock(&self.listings)
            .get(&(scope.to_owned(), size))
            .and_then(|cursors| cursors.range(..=offset).next_back())
            .map_or((0, None), |(at, cursor)| (*at, Some(cursor.clone())))
    }

    fn remember(&self, scope: &str, size: u32, offset: u64, cursor: &str) {
        let mut listings = lock(&self.listings);
        let key = (scope.to_owned(), size);
        if listings.len() >= MAX_LISTINGS && !listings.contains_key(&key) {
            listings.clear();
        }
        let cursors = listings.entry(key).or_default();
        if cursors.len() < MAX_CURSORS {
            cursors.insert(offset, cursor.to_owned());
        }
    }

    /// Reads one page of `listing`.
    pub async fn page<L: Listing>(
        &self,
        listing: &L,
        request: &PageRequest,
    ) -> Result<Page<L::Item>> {
        request.validate()?;
        let scope = listing.scope();
        let size = request.size();
        let start = request.start();
        let after = match request {
            PageRequest::After { token, .. } => {
                token.check_scope(&scope)?;
                match (token.backend(), token.cursor()) {
                    (BackendKind::GraphQl, Some(cursor)) => {
                        self.remember(&scope, size, start, cursor);
                        Some(Some(cursor.to_owned()))
                    }
                    // A classic token has no cursor: go by its offset.
                    _ => self.locate(listing, &scope, size, start).await?,
                }
            }
            PageRequest::Offset { .. } => self.locate(listing, &scope, size, start).await?,
        };
        let Some(after) = after else {
            return Ok(Page::new(Vec::new(), None, None));
        };
        let chunk = listing.fetch(size, after.clone()).await?;
        let (items, next) = finish(chunk, size, after.as_deref(), &scope)?;
        let next = next.map(|cursor| {
            let offset = start + items.len() as u64;
            self.remember(&scope, size, offset, &cursor);
            PageToken::new(BackendKind::GraphQl, &scope, offset, Some(cursor))
        });
        Ok(Page::new(items, None, next))
    }

    /// The cursor after which item `target` starts: `Some(None)` for the start, `None` when
    /// the listing ends before `target`.
    async fn locate<L: Listing>(
        &self,
        listing: &L,
        scope: &str,
        size: u32,
        target: u64,
    ) -> Result<Option<Option<String>>> {
        let (mut offset, mut cursor) = self.nearest(scope, size, target);
        let mut seen = HashSet::new();
        while offset < target {
            let first = (target - offset).min(u64::from(MAX_PAGE_SIZE)) as u32;
            let chunk = listing.skip(first, cursor.clone()).await?;
            let cursors = &chunk.cursors[..chunk.cursors.len().min(first as usize)];
            let Some(last) = cursors.last() else {
                return Ok(None);
            };
            for (i, passed) in cursors.iter().enumerate() {
                let at = offset + i as u64 + 1;
                if at % u64::from(size) == 0 || at == target {
                    self.remember(scope, size, at, passed);
                }
            }
            offset += cursors.len() as u64;
            if offset < target && !chunk.has_next {
                return Ok(None);
            }
            if !seen.insert(last.clone()) || cursor.as_deref() == Some(last.as_str()) {
                tracing::warn!(
                    scope,
                    "the server repeated a cursor; treating the listing as ended"
                );
                return Ok(None);
            }
            cursor = Some(last.clone());
        }
        Ok(Some(cursor))
    }
}

/// Cuts a fetched chunk to the page size and finds where the next page starts, with the loop
/// guards applied.
fn finish<T>(
    chunk: Chunk<T>,
    size: u32,
    after: Option<&str>,
    scope: &str,
) -> Result<(Vec<T>, Option<String>)> {
    let Chunk {
        mut items,
        cursors,
        has_next,
        end_cursor,
    } = chunk;
    if cursors.len() != items.len() {
        return Err(Error::Unexpected {
            message: "a page's items and cursors do not match".to_owned(),
            legacy_code: None,
        });
    }
    let size = size as usize;
    let (has_next, next) = if items.len() > size {
        // More than asked for: keep the page and continue after its last item.
        items.truncate(size);
        (true, cursors.get(size - 1).cloned())
    } else {
        (has_next, end_cursor)
    };
    if !has_next {
        return Ok((items, None));
    }
    let next = match next {
        None => {
            tracing::warn!(
                scope,
                "the server says more items follow but gave no cursor; treating this page as the last"
            );
            None
        }
        Some(_) if items.is_empty() => {
            tracing::warn!(
                scope,
                "the server says more items follow after an empty page; treating it as the last"
            );
            None
        }
        Some(cursor) if Some(cursor.as_str()) == after => {
            tracing::warn!(
                scope,
                "the server repeated a cursor; treating this page as the last"
            );
            None
        }
        next => next,
    };
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A listing of `len` numbers whose cursors are `c<index>`, counting its requests.
    struct Numbers {
        len: usize,
        fetches: AtomicUsize,
        skips: AtomicUsize,
        skipped_items: AtomicUsize,
    }

    impl Numbers {
        fn new(len: usize) -> Self {
            Self {
                len,
                fetches: AtomicUsize::new(0),
                skips: AtomicUsize::new(0),
                skipped_items: AtomicUsize::new(0),
            }
        }

        fn chunk(&self, first: u32, after: Option<String>) -> Chunk<usize> {
            let start = after.map_or(0, |c| c[1..].parse::<usize>().unwrap() + 1);
            let end = (start + first as usize).min(self.len);
            let items: Vec<usize> = (start..end).collect();
            Chunk {
                cursors: items.iter().map(|i| format!("c{i}")).collect(),
                has_next: end < self.len,
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
            Ok(self.chunk(first, after))
        }

        async fn skip(&self, first: u32, after: Option<String>) -> Result<Chunk<()>> {
            self.skips.fetch_add(1, Ordering::SeqCst);
            let chunk = self.chunk(first, after);
            self.skipped_items
                .fetch_add(chunk.items.len(), Ordering::SeqCst);
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
    fn pages_in_order_cost_one_request_each() {
        let listing = Numbers::new(95);
        let cache = CursorCache::default();
        block(async {
            for page in 1..=5 {
                let got = cache
                    .page(&listing, &PageRequest::offset(page, 20))
                    .await
                    .unwrap();
                let start = (page as usize - 1) * 20;
                assert_eq!(got.items, (start..(start + 20).min(95)).collect::<Vec<_>>());
                assert_eq!(got.next.is_some(), page < 5);
            }
        });
        assert_eq!(listing.fetches.load(Ordering::SeqCst), 5);
        assert_eq!(listing.skips.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_jump_walks_by_hundreds_then_fetches_once() {
        let listing = Numbers::new(5000);
        let cache = CursorCache::default();
        let page = block(cache.page(&listing, &PageRequest::offset(50, 20))).unwrap();
        assert_eq!(page.items, (980..1000).collect::<Vec<_>>());
        assert_eq!(
            listing.skips.load(Ordering::SeqCst),
            10,
            "ceil(980/100) walks"
        );
        assert_eq!(listing.skipped_items.load(Ordering::SeqCst), 980);
        assert_eq!(listing.fetches.load(Ordering::SeqCst), 1);
        // Page 49 is now known too: no walk.
        let before = block(cache.page(&listing, &PageRequest::offset(49, 20))).unwrap();
        assert_eq!(before.items[0], 960);
        assert_eq!(listing.skips.load(Ordering::SeqCst), 10);
        // The token continues where the page ended.
        let next =
            block(cache.page(&listing, &PageRequest::after(page.next.unwrap(), 20))).unwrap();
        assert_eq!(next.items[0], 1000);
    }

    #[test]
    fn a_jump_past_the_end_is_an_empty_last_page() {
        let listing = Numbers::new(30);
        let page =
            block(CursorCache::default().page(&listing, &PageRequest::offset(9, 20))).unwrap();
        assert!(page.items.is_empty() && page.next.is_none());
        assert_eq!(listing.fetches.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_classic_token_falls_back_to_its_offset_and_another_query_fails() {
        let listing = Numbers::new(100);
        let cache = CursorCache::default();
        let classic = PageToken::new(BackendKind::ClassicRest, "numbers", 40, None);
        let page = block(cache.page(&listing, &PageRequest::after(classic, 10))).unwrap();
        assert_eq!(page.items[0], 40);
        let foreign = PageToken::new(BackendKind::GraphQl, "letters", 40, Some("c39".into()));
        let refused = block(cache.page(&listing, &PageRequest::after(foreign, 10)));
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
        assert_eq!(
            finish(chunk(Some("b")), 2, None, "s").unwrap().1.as_deref(),
            Some("b")
        );
        assert_eq!(finish(chunk(Some("b")), 2, Some("b"), "s").unwrap().1, None);
        let no_cursor = Chunk::<u8> {
            items: vec![],
            cursors: vec![],
            has_next: true,
            end_cursor: None,
        };
        assert_eq!(finish(no_cursor, 2, None, "s").unwrap().1, None);
        // Too many items: cut to the page, continue after the page's last item.
        let (items, next) = finish(chunk(Some("b")), 1, None, "s").unwrap();
        assert_eq!((items, next.as_deref()), (vec![1], Some("a")));
    }
}
