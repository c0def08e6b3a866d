//! Offset paging shared by the listings: the PageBean envelope and the slice of a page.

use serde_json::{Value, json};

/// A PageBean (`self`, `nextPage`, `maxResults`, `startAt`, `total`, `isLast`, `values`).
pub(crate) fn page_bean(
    self_url: &str,
    start: usize,
    max: usize,
    total: usize,
    values: Vec<Value>,
) -> Value {
    let is_last = start + values.len() >= total;
    let sep = if self_url.contains('?') { '&' } else { '?' };
    let mut v = json!({
        "self": format!("{self_url}{sep}startAt={start}&maxResults={max}"),
        "maxResults": max,
        "startAt": start,
        "total": total,
        "isLast": is_last,
        "values": values,
    });
    if !is_last {
        v["nextPage"] = Value::String(format!(
            "{self_url}{sep}startAt={}&maxResults={max}",
            start.saturating_add(max)
        ));
    }
    v
}

/// Slice of `items` for a page.
pub(crate) fn window<T>(items: &[T], start: usize, max: usize) -> &[T] {
    let s = start.min(items.len());
    &items[s..s.saturating_add(max).min(items.len())]
}
