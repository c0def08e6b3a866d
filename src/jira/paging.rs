//! Guards every paged loop against an answer that never ends it: a token or cursor that does not advance, or
//! more pages than any real site has.

use super::JiraError;

/// Most pages one listing may have (10 million items at the smallest page size in use, 100).
pub(crate) const MAX_PAGES: u32 = 100_000;

/// The pages of one listing so far.
pub(crate) struct Pages {
    operation: &'static str,
    count: u32,
    token: Option<String>,
}

impl Pages {
    /// A listing of `operation` (e.g. `POST /rest/api/3/search/jql`), before its first page.
    pub fn new(operation: &'static str) -> Pages {
        Pages {
            operation,
            count: 0,
            token: None,
        }
    }

    /// The token or cursor of the page to ask for (`None` for the first).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Records an answered page and its pointer to the next one (`None` or empty: the listing ended). True when
    /// there is a next page to ask for; an error when the pointer repeats the current one or the listing grew
    /// past [`MAX_PAGES`].
    pub fn advance(&mut self, next: Option<String>) -> Result<bool, JiraError> {
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
    pub fn count_page(&mut self) -> Result<(), JiraError> {
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
