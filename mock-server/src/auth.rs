//! Bearer authentication as the live service applies it.
//!
//! Both failures are 401, told apart only by their description: no usable header → "Missing or
//! invalid Authorization header"; a token that is not allowed → "Unauthorized: Invalid or expired
//! token.". By default any non-empty Bearer token is allowed (a mock needs no real key); a list of
//! tokens restricts it. Tokens are never logged or echoed.
//!
//! Regions: each regional host is a hard partition, and a key of one region sent to another
//! region's host gets the same 401 as a bad key (NOTES.md "Hosts", "Errors";
//! MAKE-CALL-AND-WEBHOOKS.md §1 \[3P\]: a global key got 401 from `api.us` and `api.eu`). A token may
//! carry a region (`--token us:KEY`, [`AuthPolicy::parse`]); the request's region is read from its
//! `Host` header ([`Region::of_host`]), and a token of another region is refused there. A plain
//! token, or a host of no known region (`127.0.0.1:PORT`), is not region-checked.

use std::collections::HashMap;

use http::{header::AUTHORIZATION, HeaderMap, HeaderValue};

use crate::error::ApiError;

/// One of the service's three hosts (NOTES.md "Hosts").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// `api.synthflow.ai`.
    Global,
    /// `api.us.synthflow.ai`.
    Us,
    /// `api.eu.synthflow.ai`.
    Eu,
}

impl Region {
    /// The region of a `--token` prefix: `global`, `us` or `eu` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Region> {
        match name.to_ascii_lowercase().as_str() {
            "global" => Some(Region::Global),
            "us" => Some(Region::Us),
            "eu" => Some(Region::Eu),
            _ => None,
        }
    }

    /// The region a `Host` header names: the vendor's hosts (`api.synthflow.ai`,
    /// `api.us.synthflow.ai`, `api.eu.synthflow.ai`), or a stand-in whose first label is the
    /// region (`us.localhost:8080`, `eu.mock.internal`, `global.localhost`), port ignored. `None`
    /// for any other host: no region is checked there.
    pub fn of_host(host: &str) -> Option<Region> {
        let host = host.trim().to_ascii_lowercase();
        let name = match host.rsplit_once(':') {
            Some((n, port)) if port.bytes().all(|b| b.is_ascii_digit()) => n.to_owned(),
            _ => host,
        };
        let name = name.trim_end_matches('.');
        match name {
            "api.synthflow.ai" => return Some(Region::Global),
            "api.us.synthflow.ai" => return Some(Region::Us),
            "api.eu.synthflow.ai" => return Some(Region::Eu),
            _ => {}
        }
        let (first, rest) = name.split_once('.')?;
        (!rest.is_empty())
            .then(|| Region::from_name(first))
            .flatten()
    }
}

/// Which Bearer tokens the mock accepts.
#[derive(Clone, Default)]
pub enum AuthPolicy {
    /// Any non-empty Bearer token.
    #[default]
    AnyBearer,
    /// Only these tokens, each valid on any host (`None`) or on its region's host only.
    Tokens(HashMap<String, Option<Region>>),
}

impl std::fmt::Debug for AuthPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthPolicy::AnyBearer => f.write_str("AnyBearer"),
            AuthPolicy::Tokens(t) => write!(f, "Tokens(<{} redacted>)", t.len()),
        }
    }
}

impl AuthPolicy {
    /// Restricts the mock to the given tokens, valid on any host; an empty list means any Bearer
    /// token.
    pub fn tokens<I: IntoIterator<Item = S>, S: Into<String>>(tokens: I) -> Self {
        Self::regional(tokens.into_iter().map(|t| (None, t)))
    }

    /// Restricts the mock to the given tokens, each on its region's host only when it has one.
    pub fn regional<I: IntoIterator<Item = (Option<Region>, S)>, S: Into<String>>(
        tokens: I,
    ) -> Self {
        let map: HashMap<String, Option<Region>> = tokens
            .into_iter()
            .map(|(r, t)| (t.into(), r))
            .filter(|(t, _)| !t.is_empty())
            .collect();
        if map.is_empty() {
            AuthPolicy::AnyBearer
        } else {
            AuthPolicy::Tokens(map)
        }
    }

    /// From `--token` values: `KEY` (any host) or `REGION:KEY` with REGION `global`, `us` or `eu`.
    /// A value whose part before the first `:` is not a region is a plain key, colon and all.
    pub fn parse<I: IntoIterator<Item = S>, S: AsRef<str>>(values: I) -> Self {
        Self::regional(values.into_iter().map(|v| {
            let v = v.as_ref();
            match v.split_once(':') {
                Some((r, key)) if Region::from_name(r).is_some() && !key.is_empty() => {
                    (Region::from_name(r), key.to_owned())
                }
                _ => (None, v.to_owned()),
            }
        }))
    }

    /// Checks the request's headers.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            // None, or the header twice: which one would count is ambiguous, so neither does.
            return Err(ApiError::MissingAuth);
        };
        self.check_value(value, headers)
    }

    /// [`AuthPolicy::check`] of a request's one `Authorization` value (the caller has made sure
    /// there is exactly one); `headers` are read only for a token bound to a region.
    pub fn check_value(&self, value: &HeaderValue, headers: &HeaderMap) -> Result<(), ApiError> {
        let token = bearer_token(value.as_bytes()).ok_or(ApiError::MissingAuth)?;
        match self {
            AuthPolicy::AnyBearer => Ok(()),
            // ASCII (`bearer_token` let nothing else through): `from_utf8` cannot fail.
            AuthPolicy::Tokens(allowed) => {
                match std::str::from_utf8(token).ok().and_then(|t| allowed.get(t)) {
                    None => Err(ApiError::InvalidToken),
                    Some(None) => Ok(()),
                    Some(Some(region)) => {
                        let host = headers
                            .get(http::header::HOST)
                            .and_then(|h| h.to_str().ok())
                            .and_then(Region::of_host);
                        match host {
                            Some(h) if h != *region => Err(ApiError::InvalidToken),
                            _ => Ok(()),
                        }
                    }
                }
            }
        }
    }
}

/// The admin API's token (`--admin-token`): admin requests must carry `Authorization: Bearer
/// <token>` when one is set. Compared in constant time: both sides are hashed (SHA-256) first and
/// the digests compared with `subtle`, so neither the content nor the length of the token leaks
/// through timing. Never printed (`Debug` says `AdminToken(<redacted>)`).
#[derive(Clone)]
pub struct AdminToken([u8; 32]);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    /// The token; `None` for an empty one (an empty token would protect nothing).
    pub fn new(token: &str) -> Option<AdminToken> {
        (!token.is_empty()).then(|| AdminToken(digest(token.as_bytes())))
    }

    /// Whether the request carries this token, once, as `Authorization: Bearer <token>`.
    pub fn accepts(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return false;
        };
        let Some(token) = bearer_token(value.as_bytes()) else {
            return false;
        };
        subtle::ConstantTimeEq::ct_eq(&digest(token)[..], &self.0[..]).into()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// The token of `Bearer <token>` (scheme case-insensitive, RFC 7235), if non-empty.
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    // The common form first, in one pass: `Bearer ` and a token of visible ASCII without spaces
    // (what the general path below makes of it too). This runs on every request: the general
    // path, after `HeaderValue::to_str`'s own pass, cost ~240 instructions of a request's ~12,200
    // (bench/callgrind.sh), this one ~60.
    if let Some(token) = value.strip_prefix(b"Bearer ") {
        if !token.is_empty() && token.iter().all(u8::is_ascii_graphic) {
            return Some(token);
        }
    }
    // Visible ASCII or tab only, as `HeaderValue::to_str` requires; then the scheme in any case,
    // spaces around the token ignored.
    if !value
        .iter()
        .all(|&b| (b' '..=b'~').contains(&b) || b == b'\t')
    {
        return None;
    }
    let value = value.trim_ascii();
    let space = value.iter().position(|&b| b == b' ')?;
    if !value[..space].eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = value[space + 1..].trim_ascii();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn any_bearer_token_is_accepted_by_default() {
        assert!(AuthPolicy::AnyBearer.check(&headers(&["Bearer x"])).is_ok());
        assert!(AuthPolicy::AnyBearer.check(&headers(&["bearer x"])).is_ok());
    }

    #[test]
    fn missing_empty_or_other_scheme_is_missing_auth() {
        for h in [
            vec![],
            vec!["Bearer"],
            vec!["Bearer   "],
            vec!["Basic eDp5"],
            vec!["x"],
        ] {
            assert!(
                matches!(
                    AuthPolicy::AnyBearer.check(&headers(&h)),
                    Err(ApiError::MissingAuth)
                ),
                "{h:?}"
            );
        }
    }

    /// The one-pass form of `Bearer <token>` and the general parse (after `HeaderValue::to_str`,
    /// as it was written first) find the same token in every value, the odd ones included.
    #[test]
    fn the_quick_form_and_the_general_parse_find_the_same_token() {
        fn general(value: &[u8]) -> Option<Vec<u8>> {
            let value = HeaderValue::from_bytes(value).ok()?;
            let value = value.to_str().ok()?.trim_ascii();
            let space = value.find(' ')?;
            if !value[..space].eq_ignore_ascii_case("bearer") {
                return None;
            }
            let token = value[space + 1..].trim_ascii();
            (!token.is_empty()).then(|| token.as_bytes().to_vec())
        }
        let values: [&[u8]; 18] = [
            b"Bearer abc",
            b"bearer abc",
            b"BEARER abc",
            b"Bearer  abc",
            b"Bearer abc ",
            b"  Bearer abc",
            b"Bearer a b",
            b"Bearer \tabc",
            b"Bearer ab\tc",
            b"Bearer",
            b"Bearer ",
            b"Bearer   ",
            b"Basic abc",
            b"Bearer\tabc",
            b"Bearer \xffabc",
            b"Bearer ab\x80",
            b"Bearer ab\x7f",
            b"Bearer x",
        ];
        for v in values {
            let found = bearer_token(v).map(<[u8]>::to_vec);
            assert_eq!(found, general(v), "{:?}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn duplicated_authorization_is_refused() {
        let r = AuthPolicy::AnyBearer.check(&headers(&["Bearer a", "Bearer b"]));
        assert!(matches!(r, Err(ApiError::MissingAuth)));
    }

    #[test]
    fn restricted_policy_refuses_other_tokens_as_invalid() {
        let p = AuthPolicy::tokens(["good"]);
        assert!(p.check(&headers(&["Bearer good"])).is_ok());
        assert!(matches!(
            p.check(&headers(&["Bearer bad"])),
            Err(ApiError::InvalidToken)
        ));
    }

    fn on_host(auth: &str, host: &str) -> HeaderMap {
        let mut h = headers(&[auth]);
        h.insert(http::header::HOST, HeaderValue::from_str(host).unwrap());
        h
    }

    #[test]
    fn hosts_name_their_region_and_others_none() {
        for (host, want) in [
            ("api.synthflow.ai", Some(Region::Global)),
            ("API.US.synthflow.ai:443", Some(Region::Us)),
            ("api.eu.synthflow.ai", Some(Region::Eu)),
            ("us.localhost:8080", Some(Region::Us)),
            ("global.localhost", Some(Region::Global)),
            ("127.0.0.1:8080", None),
            ("localhost", None),
            ("us", None),
            ("api.de.synthflow.ai", None),
        ] {
            assert_eq!(Region::of_host(host), want, "{host}");
        }
    }

    #[test]
    fn a_regional_key_is_refused_on_another_regions_host_only() {
        // Source: NOTES.md "Errors" and MAKE-CALL-AND-WEBHOOKS.md §1 [3P].
        let p = AuthPolicy::parse(["us:k-us", "eu:k-eu", "plain", "odd:colon"]);
        assert!(p
            .check(&on_host("Bearer k-us", "api.us.synthflow.ai"))
            .is_ok());
        assert!(p.check(&on_host("Bearer k-us", "127.0.0.1:9")).is_ok());
        assert!(matches!(
            p.check(&on_host("Bearer k-us", "api.eu.synthflow.ai")),
            Err(ApiError::InvalidToken)
        ));
        assert!(matches!(
            p.check(&on_host("Bearer k-eu", "api.synthflow.ai")),
            Err(ApiError::InvalidToken)
        ));
        for host in ["api.us.synthflow.ai", "api.eu.synthflow.ai", "x"] {
            assert!(p.check(&on_host("Bearer plain", host)).is_ok(), "{host}");
            assert!(
                p.check(&on_host("Bearer odd:colon", host)).is_ok(),
                "{host}"
            );
        }
        // The region prefix is not part of the key.
        assert!(p.check(&on_host("Bearer us:k-us", "127.0.0.1")).is_err());
        assert!(!format!("{p:?}").contains("k-us"));
    }

    #[test]
    fn the_admin_token_is_accepted_as_bearer_only_and_never_printed() {
        let t = AdminToken::new("adm1n").unwrap();
        assert!(t.accepts(&headers(&["Bearer adm1n"])));
        assert!(!t.accepts(&headers(&["Bearer adm1n2"])));
        assert!(!t.accepts(&headers(&["Basic adm1n"])));
        assert!(!t.accepts(&headers(&[])));
        assert!(!t.accepts(&headers(&["Bearer adm1n", "Bearer adm1n"])));
        assert!(AdminToken::new("").is_none());
        assert!(!format!("{t:?}").contains("adm1n"));
    }

    #[test]
    fn debug_output_never_shows_tokens() {
        let p = AuthPolicy::tokens(["s3cret-token"]);
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
