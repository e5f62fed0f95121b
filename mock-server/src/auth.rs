//! Bearer authentication as the live service applies it.
//!
//! Both failures are 401, told apart only by their description: no usable header → "Missing or
//! invalid Authorization header"; a token that is not allowed → "Unauthorized: Invalid or expired
//! token.". By default any non-empty Bearer token is allowed (a mock needs no real key); a list of
//! tokens restricts it. Tokens are never logged or echoed.

use std::collections::HashSet;

use http::{header::AUTHORIZATION, HeaderMap};

use crate::error::ApiError;

/// Which Bearer tokens the mock accepts.
#[derive(Clone, Default)]
pub enum AuthPolicy {
    /// Any non-empty Bearer token.
    #[default]
    AnyBearer,
    /// Only these tokens.
    Tokens(HashSet<String>),
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
    /// Restricts the mock to the given tokens; an empty list means any Bearer token.
    pub fn tokens<I: IntoIterator<Item = S>, S: Into<String>>(tokens: I) -> Self {
        let set: HashSet<String> = tokens
            .into_iter()
            .map(Into::into)
            .filter(|t: &String| !t.is_empty())
            .collect();
        if set.is_empty() {
            AuthPolicy::AnyBearer
        } else {
            AuthPolicy::Tokens(set)
        }
    }

    /// Checks the request's headers.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            // None, or the header twice: which one would count is ambiguous, so neither does.
            return Err(ApiError::MissingAuth);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or(ApiError::MissingAuth)?;
        match self {
            AuthPolicy::AnyBearer => Ok(()),
            AuthPolicy::Tokens(allowed) if allowed.contains(token) => Ok(()),
            AuthPolicy::Tokens(_) => Err(ApiError::InvalidToken),
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
        let Some(token) = value.to_str().ok().and_then(bearer_token) else {
            return false;
        };
        subtle::ConstantTimeEq::ct_eq(&digest(token.as_bytes())[..], &self.0[..]).into()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// The token of `Bearer <token>` (scheme case-insensitive, RFC 7235), if non-empty.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
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
