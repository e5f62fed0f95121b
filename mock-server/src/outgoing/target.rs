//! Where an outgoing request may go: the URL read once, its host normalised, then one decision
//! ([`Rules::decide`]) on the address it resolves to. Pure functions, tested here without a connection.
//!
//! In order:
//! 1. the URL: `http://` only, a valid port (1-65535): anything else can never succeed, so it
//!    *fails* at once (one attempt, no retry);
//! 2. the host, normalised: numeric forms a resolver would accept (`2130706433`, `0x7f.0.0.1`,
//!    `0177.1`, `[::ffff:127.0.0.1]`) become the address they mean, so no check below can be
//!    walked around by spelling;
//! 3. the allow list (`--webhook-allow HOST[:PORT]`), when given: any other target is *refused*
//!    before a name is looked up or a connection made;
//! 4. the resolved address: link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10,
//!    fd00:ec2::254) are refused unless the allow list names the target; the mock's own listening
//!    address and port are always refused (a webhook to `/__admin/reset` must not reset the mock).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A host as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An address (any numeric form, normalised; IPv4-mapped IPv6 as IPv4).
    Ip(IpAddr),
    /// A name to resolve, lowercased.
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

impl Host {
    /// Reads a host as written in a URL or an allow entry (brackets allowed around IPv6).
    pub fn parse(text: &str) -> Host {
        let t = text.trim().trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = t.parse::<Ipv6Addr>() {
            return Host::Ip(IpAddr::V6(ip).to_canonical());
        }
        match numeric_v4(t) {
            Some(ip) => Host::Ip(IpAddr::V4(ip)),
            None => Host::Name(t.to_ascii_lowercase()),
        }
    }
}

/// The IPv4 address a resolver's `inet_aton` reads from `text`: one to four parts, each decimal,
/// octal (leading `0`) or hex (`0x`), the last filling the bytes left. `None`: not numeric.
pub fn numeric_v4(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(4);
    for p in &parts {
        let v = if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            if hex.is_empty() {
                0
            } else {
                u64::from_str_radix(hex, 16).ok()?
            }
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse::<u64>().ok()?
        };
        values.push(v);
    }
    let (last, head) = values.split_last()?;
    if head.iter().any(|v| *v > 255) {
        return None;
    }
    let room = 8 * (4 - head.len() as u32);
    if room < 64 && *last >= 1u64 << room {
        return None;
    }
    let mut n: u64 = 0;
    for (i, v) in head.iter().enumerate() {
        n |= v << (24 - 8 * i as u64);
    }
    n |= last;
    Some(Ipv4Addr::from(u32::try_from(n).ok()?))
}

/// A URL read for sending: where to connect and what to say in `Host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host, normalised.
    pub host: Host,
    /// The port (80 when the URL gives none).
    pub port: u16,
    /// The `Host` header: the URL's authority without user and password.
    pub authority: String,
    /// Path and query, `/` when empty.
    pub path_and_query: String,
}

/// Why a URL can never be sent to (fails at once, without retry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadTarget {
    /// The text is not a URL.
    #[error("not a URL")]
    NotAUrl,
    /// Not `http://`.
    #[error(
        "unsupported scheme {0:?}: the mock sends over plain http only (no TLS client offline)"
    )]
    Scheme(String),
    /// Port 0, over 65535, or not a number.
    #[error("invalid port {0:?}")]
    Port(String),
    /// No host.
    #[error("no host")]
    NoHost,
}

impl Target {
    /// Reads `url`.
    pub fn parse(url: &str) -> Result<Target, BadTarget> {
        let url = url.trim();
        let (scheme, rest) = url.split_once("://").ok_or(BadTarget::NotAUrl)?;
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(BadTarget::Scheme(crate::ring::bounded(scheme, 32)));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let tail = &rest[end..];
        let tail = tail.split_once('#').map_or(tail, |(t, _)| t);
        let path_and_query = if tail.is_empty() {
            "/".to_owned()
        } else if tail.starts_with('?') {
            format!("/{tail}")
        } else {
            tail.to_owned()
        };
        let (host, port) = split_port(authority)?;
        if host.is_empty() {
            return Err(BadTarget::NoHost);
        }
        Ok(Target {
            host: Host::parse(host),
            port,
            authority: authority.to_owned(),
            path_and_query,
        })
    }
}

/// `host[:port]` or `[v6][:port]` → host text and port (80 by default).
fn split_port(authority: &str) -> Result<(&str, u16), BadTarget> {
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => {
                let after = &authority[end + 1..];
                match after.strip_prefix(':') {
                    Some(p) => (&authority[..=end], Some(p)),
                    None if after.is_empty() => (&authority[..=end], None),
                    None => return Err(BadTarget::NotAUrl),
                }
            }
            None => return Err(BadTarget::NotAUrl),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(BadTarget::Port(crate::ring::bounded(p, 16))),
        },
    };
    Ok((host, port))
}

/// One `--webhook-allow` entry: a host (name or address, any numeric form) and maybe a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    /// The host allowed.
    pub host: Host,
    /// Only this port, when given.
    pub port: Option<u16>,
}

impl std::str::FromStr for Allow {
    type Err = String;
    fn from_str(s: &str) -> Result<Allow, String> {
        let s = s.trim();
        if s.is_empty() || s.contains('/') || s.contains("://") {
            return Err(format!("{s:?}: expected HOST or HOST:PORT"));
        }
        let has_port = if s.starts_with('[') {
            s.contains("]:")
        } else {
            s.matches(':').count() == 1
        };
        let (host, port) = if has_port {
            let (h, p) = split_port(s).map_err(|e| format!("{s:?}: {e}"))?;
            (h, Some(p))
        } else {
            (s, None)
        };
        Ok(Allow {
            host: Host::parse(host),
            port,
        })
    }
}

impl fmt::Display for Allow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

impl Allow {
    fn matches(&self, t: &Target) -> bool {
        self.host == t.host && self.port.map_or(true, |p| p == t.port)
    }
}

/// The rules every outgoing request is checked against.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// When not empty, the only targets allowed.
    pub allow: Vec<Allow>,
    /// The mock's own listening addresses.
    pub own: Vec<SocketAddr>,
}

/// The decision on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send, connecting to this address.
    Go(SocketAddr),
    /// Not sent, by rule (journaled as `refused` with the reason).
    Refuse(String),
    /// Cannot be sent, ever (journaled as `failed`, no retry).
    Fail(String),
}

impl Rules {
    /// Before any lookup: the allow list. `Some` refusal when the target is not on it.
    pub fn pre_check(&self, t: &Target) -> Option<Verdict> {
        (!self.allow.is_empty() && !self.allow.iter().any(|a| a.matches(t))).then(|| {
            Verdict::Refuse(format!(
                "{}:{} is not in the allowed targets (--webhook-allow {})",
                t.host,
                t.port,
                self.allow
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// The decision on `t` once its host resolved to `resolved` (its address, for [`Host::Ip`]).
    /// `is_local`: whether an address belongs to this machine (for a mock bound to `0.0.0.0`).
    pub fn decide(
        &self,
        t: &Target,
        resolved: &[IpAddr],
        is_local: impl Fn(IpAddr) -> bool,
    ) -> Verdict {
        if let Some(v) = self.pre_check(t) {
            return v;
        }
        let Some(ip) = resolved.first().map(|ip| ip.to_canonical()) else {
            return Verdict::Fail(format!("{} does not resolve to an address", t.host));
        };
        let named = self.allow.iter().any(|a| a.matches(t));
        if is_link_local_or_metadata(ip) && !named {
            return Verdict::Refuse(format!(
                "{ip} is a link-local or cloud-metadata address (allow it by name with --webhook-allow)"
            ));
        }
        if self.is_own(ip, t.port, is_local) {
            return Verdict::Refuse(format!(
                "{}:{} is the mock's own listening address: it never sends to itself",
                t.host, t.port
            ));
        }
        Verdict::Go(SocketAddr::new(ip, t.port))
    }

    fn is_own(&self, ip: IpAddr, port: u16, is_local: impl Fn(IpAddr) -> bool) -> bool {
        self.own.iter().filter(|o| o.port() == port).any(|o| {
            let own = o.ip().to_canonical();
            // 0.0.0.0 and :: as a destination reach this machine.
            let ip_local = ip.is_loopback() || ip.is_unspecified();
            ip == own
                || (own.is_unspecified() && (ip_local || is_local(ip)))
                || (own.is_loopback() && ip_local)
        })
    }

    /// The line said at start: which targets outgoing requests may reach.
    pub fn describe(&self) -> String {
        let own = self
            .own
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let own = if own.is_empty() {
            String::new()
        } else {
            format!("; never the mock itself ({own})")
        };
        if self.allow.is_empty() {
            format!(
                "outgoing requests (webhooks) may reach any http:// host except link-local and \
                 cloud-metadata addresses{own}; restrict with --webhook-allow HOST[:PORT]"
            )
        } else {
            format!(
                "outgoing requests (webhooks) may reach only {}{own}",
                self.allow
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// 169.254.0.0/16, fe80::/10 and the AWS IPv6 metadata address fd00:ec2::254.
pub fn is_link_local_or_metadata(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => {
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        }
    }
}

/// Whether `ip` is an address of this machine: binding a socket to it succeeds only then.
pub fn is_local_address(ip: IpAddr) -> bool {
    ip.is_loopback()
        || ip.is_unspecified()
        || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn own(addr: &str) -> Rules {
        Rules {
            allow: vec![],
            own: vec![addr.parse().unwrap()],
        }
    }

    fn verdict(rules: &Rules, url: &str) -> Verdict {
        let t = Target::parse(url).unwrap();
        let resolved = match &t.host {
            Host::Ip(a) => vec![*a],
            Host::Name(n) if n == "localhost" => vec![ip("127.0.0.1")],
            Host::Name(_) => vec![ip("10.1.2.3")],
        };
        rules.decide(&t, &resolved, |_| false)
    }

    #[test]
    fn numeric_spellings_of_loopback_are_normalised() {
        for host in [
            "127.0.0.1",
            "2130706433",
            "0x7f.0.0.1",
            "0x7f000001",
            "0177.0.0.1",
            "127.1",
            "127.0.1",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
        ] {
            assert_eq!(Host::parse(host), Host::Ip(ip("127.0.0.1")), "{host}");
        }
        assert_eq!(Host::parse("LocalHost"), Host::Name("localhost".into()));
        assert_eq!(Host::parse("1.2.3.999"), Host::Name("1.2.3.999".into()));
        assert_eq!(Host::parse("receiver"), Host::Name("receiver".into()));
        assert_eq!(Host::parse("[::1]"), Host::Ip(ip("::1")));
    }

    #[test]
    fn the_mocks_own_address_is_refused_however_it_is_spelt() {
        let rules = own("127.0.0.1:8080");
        for url in [
            "http://127.0.0.1:8080/__admin/reset",
            "http://0x7f.0.0.1:8080/__admin/reset",
            "http://2130706433:8080/x",
            "http://[::ffff:127.0.0.1]:8080/x",
            "http://localhost:8080/x",
            "http://0.0.0.0:8080/x",
            "http://127.0.0.2:8080/x",
        ] {
            assert!(
                matches!(verdict(&rules, url), Verdict::Refuse(r) if r.contains("own")),
                "{url}"
            );
        }
        // Another port on loopback is a receiver.
        assert_eq!(
            verdict(&rules, "http://127.0.0.1:9000/hook"),
            Verdict::Go("127.0.0.1:9000".parse().unwrap())
        );
    }

    #[test]
    fn a_mock_bound_to_every_address_refuses_each_of_this_machines_addresses() {
        let rules = own("0.0.0.0:8080");
        let t = Target::parse("http://10.9.9.9:8080/x").unwrap();
        assert!(matches!(
            rules.decide(&t, &[ip("10.9.9.9")], |a| a == ip("10.9.9.9")),
            Verdict::Refuse(_)
        ));
        assert!(matches!(
            rules.decide(&t, &[ip("10.9.9.9")], |_| false),
            Verdict::Go(_)
        ));
        assert!(matches!(
            verdict(&rules, "http://127.0.0.1:8080/"),
            Verdict::Refuse(_)
        ));
    }

    #[test]
    fn link_local_and_metadata_addresses_are_refused_unless_allowed_by_name() {
        let rules = Rules::default();
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00:ec2::254]/",
            "http://[fe80::1]:9000/",
            "http://0xa9.0xfe.0xa9.0xfe/",
        ] {
            assert!(matches!(verdict(&rules, url), Verdict::Refuse(_)), "{url}");
        }
        let allowed = Rules {
            allow: vec!["169.254.169.254".parse().unwrap()],
            own: vec![],
        };
        assert!(matches!(
            verdict(&allowed, "http://169.254.169.254/x"),
            Verdict::Go(_)
        ));
    }

    #[test]
    fn an_allow_list_refuses_everything_else_before_any_lookup() {
        let rules = Rules {
            allow: vec![
                "receiver:9000".parse().unwrap(),
                "127.0.0.1".parse().unwrap(),
            ],
            own: vec![],
        };
        assert!(matches!(
            verdict(&rules, "http://receiver:9000/h"),
            Verdict::Go(_)
        ));
        assert!(matches!(
            verdict(&rules, "http://RECEIVER:9000/h"),
            Verdict::Go(_)
        ));
        assert!(matches!(
            verdict(&rules, "http://2130706433:1234/h"),
            Verdict::Go(_)
        ));
        let t = Target::parse("http://receiver:9001/h").unwrap();
        assert!(matches!(rules.pre_check(&t), Some(Verdict::Refuse(_))));
        let t = Target::parse("http://evil.example/h").unwrap();
        assert!(matches!(rules.pre_check(&t), Some(Verdict::Refuse(_))));
    }

    #[test]
    fn urls_that_can_never_work_are_told_apart() {
        assert!(matches!(
            Target::parse("https://h/x"),
            Err(BadTarget::Scheme(_))
        ));
        assert!(matches!(
            Target::parse("http://h:99999/x"),
            Err(BadTarget::Port(_))
        ));
        assert!(matches!(
            Target::parse("http://h:0/x"),
            Err(BadTarget::Port(_))
        ));
        assert!(matches!(Target::parse("nope"), Err(BadTarget::NotAUrl)));
        assert!(matches!(Target::parse("http:///x"), Err(BadTarget::NoHost)));
        let t = Target::parse("http://u:p@h:81?x=1#f").unwrap();
        assert_eq!(t.authority, "h:81");
        assert_eq!(t.path_and_query, "/?x=1");
        assert!(matches!(
            Rules::default().decide(&t, &[], |_| false),
            Verdict::Fail(_)
        ));
    }

    #[test]
    fn allow_entries_parse_hosts_and_ports() {
        let a: Allow = "[::1]:9000".parse().unwrap();
        assert_eq!(a.host, Host::Ip(ip("::1")));
        assert_eq!(a.port, Some(9000));
        let a: Allow = "receiver".parse().unwrap();
        assert_eq!(a.port, None);
        assert!("http://x".parse::<Allow>().is_err());
        assert!("h:99999".parse::<Allow>().is_err());
    }
}
