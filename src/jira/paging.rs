//! The paged listings' loops: [`by_token`] for token- or cursor-paged listings, [`by_offset`] for listings
//! paged by an offset (or any position the caller computes). Both guard against an answer that never ends
//! the listing: a token or cursor that does not advance, or more pages than any real site has.

use super::JiraError;
use std::future::Future;

/// One answered page of a listing: its items and where the next page starts (`None`: the listing ended).
pub(crate) struct Page<T, P> {
    /// The page's items.
    pub items: Vec<T>,
    /// The token, cursor or position of the next page.
    pub next: Option<P>,
}

/// Reads a token- or cursor-paged listing of `operation` (e.g. `POST /rest/api/3/search/jql`): `fetch` reads
/// the page at a token (`None` for the first), `each` takes its items as the page arrives. A next token that
/// is empty ends the listing; one that repeats the current one, or more than [`MAX_PAGES`] pages, is an error.
pub(crate) async fn by_token<T, F>(
    operation: &'static str,
    mut fetch: impl FnMut(Option<String>) -> F,
    mut each: impl FnMut(T),
) -> Result<(), JiraError>
where
    F: Future<Output = Result<Page<T, String>, JiraError>>,
{
    let mut pages = Pages::new(operation);
    loop {
        let page = fetch(pages.token().map(str::to_owned)).await?;
        page.items.into_iter().for_each(&mut each);
        if !pages.advance(page.next)? {
            return Ok(());
        }
    }
}

/// Reads a listing of `operation` paged by position (an offset, or whatever the caller computes the next page
/// from), from `first`: `fetch` reads the page at a position, `each` takes its items as the page arrives. More
/// than [`MAX_PAGES`] pages is an error.
pub(crate) async fn by_offset<T, P, F>(
    operation: &'static str,
    first: P,
    mut fetch: impl FnMut(P) -> F,
    mut each: impl FnMut(T),
) -> Result<(), JiraError>
where
    F: Future<Output = Result<Page<T, P>, JiraError>>,
{
    let mut pages = Pages::new(operation);
    let mut at = Some(first);
    while let Some(position) = at {
        pages.count_page()?;
        let page = fetch(position).await?;
        page.items.into_iter().for_each(&mut each);
        at = page.next;
    }
    Ok(())
}

/// Most pages one listing may have (10 million items at the smallest page size in use, 100).
const MAX_PAGES: u32 = 100_000;

/// The pages of one listing so far.
struct Pages {
    operation: &'static str,
    count: u32,
    token: Option<String>,
}

impl Pages {
    /// A listing of `operation` (e.g. `POST /rest/api/3/search/jql`), before its first page.
    fn new(operation: &'static str) -> Pages {
        Pages {
            operation,
            count: 0,
            token: None,
        }
    }

    /// The token or cursor of the page to ask for (`None` for the first).
    fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Records an answered page and its pointer to the next one (`None` or empty: the listing ended). True when
    /// there is a next page to ask for; an error when the pointer repeats the current one or the listing grew
    /// past [`MAX_PAGES`].
    fn advance(&mut self, next: Option<String>) -> Result<bool, JiraError> {
        self.count += 1;
        let Some(next) = next.filter(|t| !t.is_empty()) else {
            return Ok(false);
        };
        if self.token.as_deref() == Some(next.as_str()) {
            return Err(self.broken("the next-page token did not advance"));
        }
        self.check_count()?;
        self.token = Some(next);
        Ok(true)
    }

    /// Records an answered page of an offset-paged listing; true while under the page cap.
    fn count_page(&mut self) -> Result<(), JiraError> {
        self.count += 1;
        self.check_count()
    }

    fn check_count(&self) -> Result<(), JiraError> {
        if self.count >= MAX_PAGES {
            return Err(self.broken("the listing did not end after 100000 pages"));
        }
        Ok(())
    }

    fn broken(&self, detail: &str) -> JiraError {
        JiraError::UnexpectedResponse {
            operation: self.operation.to_owned(),
            detail: detail.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Classify;

    #[test]
    fn tokens_must_advance_and_listings_end() {
        let mut p = Pages::new("GET x");
        assert_eq!(p.token(), None);
        assert!(p.advance(Some("a".into())).unwrap());
        assert_eq!(p.token(), Some("a"));
        assert!(p.advance(Some("b".into())).unwrap());
        let err = p.advance(Some("b".into())).unwrap_err();
        assert_eq!(err.reason(), "UnexpectedResponse");
        assert!(err.to_string().contains("did not advance"), "{err}");
        assert!(!Pages::new("GET x").advance(Some(String::new())).unwrap());
        assert!(!Pages::new("GET x").advance(None).unwrap());
    }

    #[test]
    fn pages_are_capped() {
        let mut p = Pages::new("GET x");
        for n in 0..MAX_PAGES - 1 {
            assert!(p.advance(Some(n.to_string())).unwrap());
        }
        assert!(p.advance(Some("last".into())).is_err());
        let mut q = Pages::new("GET y");
        for _ in 0..MAX_PAGES - 1 {
            q.count_page().unwrap();
        }
        assert!(q.count_page().is_err());
    }
}
