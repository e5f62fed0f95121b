//! The admin API's request checks that do not depend on who the peer is: the `Host` a request
//! names (DNS rebinding), its `Origin` (a web page on another origin), and the journal's paging
//! parameters. Pure functions of the request, tested here; [`super::admin`]'s `access` applies them.
//!
//! Why these two checks: a page on another origin can make a browser send a "simple" request
//! (`POST` with `Content-Type: text/plain`) without a CORS preflight, so the browser's own
//! protections do not stop it; it always carries that page's `Origin`. A page that rebinds its
//! own DNS name to 127.0.0.1 is same-origin for the browser, but its requests name that host in
//! `Host`. A loopback name, an IP address and the configured `--host` cannot be rebound.

use std::net::IpAddr;

use axum::extract::Request;
use http::header::{HOST, ORIGIN};

/// Host names an admin request may name besides the configured `--host` and IP addresses.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Entries a journal page holds by default ([`Page`]).
pub const DEFAULT_PAGE: usize = 100;
/// The most entries one journal page holds.
pub const MAX_PAGE: usize = 1000;
/// The most bytes (by the journal's weight) one journal page holds, whatever its limit: one
/// answer stays a few MB however fat the stored requests are.
pub const PAGE_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The host part of a `Host` value (`name[:port]`, `[v6][:port]`), lowercased.
fn host_name(value: &str) -> String {
    let v = value.trim().to_ascii_lowercase();
    if v.starts_with('[') {
        return match v.find(']') {
            Some(end) => v[..=end].to_owned(),
            None => v,
        };
    }
    match v.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name.to_owned(),
        _ => v,
    }
}

/// Whether `name` (as [`host_name`] gives it) may be the `Host` of an admin request.
fn name_allowed(name: &str, configured: Option<&str>) -> bool {
    if LOOPBACK_NAMES.contains(&name) {
        return true;
    }
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        // Cannot be rebound: the browser's origin is then that address itself.
        return true;
    }
    configured.is_some_and(|c| {
        let c = c.trim_start_matches('[').trim_end_matches(']');
        !c.is_empty() && c.eq_ignore_ascii_case(bare)
    })
}

/// The `Host` of a request (header, else the authority of an absolute-form target).
fn host_of(req: &Request) -> Option<String> {
    match req.headers().get(HOST) {
        Some(h) => Some(h.to_str().unwrap_or("\u{0}").to_owned()),
        None => req.uri().authority().map(|a| a.as_str().to_owned()),
    }
}

/// See the module docs. A request without a `Host` (in-process callers) is not a browser's, and
/// passes; a `Host` sent twice is refused.
pub fn host_allowed(req: &Request, configured: Option<&str>) -> bool {
    if req.headers().get_all(HOST).iter().count() > 1 {
        return false;
    }
    match host_of(req) {
        None => true,
        Some(h) => name_allowed(&host_name(&h), configured),
    }
}

/// Whether the request was sent by a mock (this one or another): every outgoing request carries
/// [`crate::outgoing::SENT_BY_HEADER`]. The admin API refuses those whatever `--admin` says, so a
/// webhook URL pointed at `/__admin/reset` cannot act, even through a proxy or a name that the
/// target rules could not see through.
pub fn sent_by_the_mock(req: &Request) -> bool {
    req.headers().contains_key(crate::outgoing::SENT_BY_HEADER)
}

/// See the module docs: no `Origin`, or exactly `http://<the request's Host>`.
pub fn origin_allowed(req: &Request) -> bool {
    let mut origins = req.headers().get_all(ORIGIN).iter();
    let Some(origin) = origins.next() else {
        return true;
    };
    if origins.next().is_some() {
        return false;
    }
    let (Ok(origin), Some(host)) = (origin.to_str(), host_of(req)) else {
        return false;
    };
    origin.eq_ignore_ascii_case(&format!("http://{}", host.trim()))
}

/// The paging of `GET /__admin/requests`: `?after=SEQ&limit=N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Entries after this sequence number (0: from the oldest).
    pub after: u64,
    /// At most this many ([`DEFAULT_PAGE`], at most [`MAX_PAGE`]).
    pub limit: usize,
}

impl Page {
    /// Reads `after` and `limit` from a query string; other parameters are refused.
    pub fn parse(query: Option<&str>) -> Result<Page, String> {
        let mut page = Page {
            after: 0,
            limit: DEFAULT_PAGE,
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "after" => {
                    page.after = v
                        .parse()
                        .map_err(|_| format!("after={v:.40}: expected a sequence number"))?;
                }
                "limit" => {
                    page.limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| format!("limit={v:.40}: expected 1 to {MAX_PAGE}"))?;
                }
                _ => return Err(format!("unknown parameter {k:.40}: expected after, limit")),
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        let mut b = http::Request::post("/__admin/reset");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn loopback_names_addresses_and_the_configured_host_pass() {
        for h in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "[::1]:8080",
            "[::1]",
            "10.0.0.7:80",
            "LOCALHOST:9",
        ] {
            assert!(host_allowed(&req(&[("host", h)]), None), "{h}");
        }
        assert!(host_allowed(
            &req(&[("host", "mock.internal:8080")]),
            Some("mock.internal")
        ));
        assert!(host_allowed(&req(&[]), None), "in-process: no Host");
    }

    #[test]
    fn other_names_are_refused() {
        for h in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "",
        ] {
            assert!(!host_allowed(&req(&[("host", h)]), Some("0.0.0.0")), "{h}");
        }
        assert!(!host_allowed(
            &req(&[("host", "localhost"), ("host", "evil.example")]),
            None
        ));
    }

    #[test]
    fn only_the_mocks_own_origin_passes() {
        let host = ("host", "127.0.0.1:8080");
        assert!(origin_allowed(&req(&[host])));
        assert!(origin_allowed(&req(&[
            host,
            ("origin", "http://127.0.0.1:8080")
        ])));
        for o in [
            "http://evil.example",
            "null",
            "http://127.0.0.1:9999",
            "https://127.0.0.1:8080",
        ] {
            assert!(!origin_allowed(&req(&[host, ("origin", o)])), "{o}");
        }
        assert!(!origin_allowed(&req(&[(
            "origin",
            "http://127.0.0.1:8080"
        )])));
    }

    #[test]
    fn pages_are_read_and_bounded() {
        assert_eq!(
            Page::parse(None),
            Ok(Page {
                after: 0,
                limit: DEFAULT_PAGE
            })
        );
        assert_eq!(
            Page::parse(Some("after=7&limit=3")),
            Ok(Page { after: 7, limit: 3 })
        );
        for bad in ["limit=0", "limit=1001", "after=-1", "limit=x", "other=1"] {
            assert!(Page::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
