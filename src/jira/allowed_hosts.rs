//! The hosts the operator may talk to as a Jira site (`--allowed-site-hosts`): whoever may create a
//! JiraConnection chooses its `siteUrl`, so credentials and even anonymous probes go only to hosts the cluster
//! admin allowed. Plain http is accepted only for a loopback host the list names exactly.

use std::fmt;

use url::{Host, Url};

use super::JiraError;

/// The operator's default: Jira Cloud sites only.
pub const DEFAULT_ALLOWED_SITE_HOSTS: &str = "*.atlassian.net,*.jira.com";

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// `acme.example.com`, `127.0.0.1`, `[::1]`: that host only.
    Exact(String),
    /// `*.atlassian.net`: any subdomain (at any depth), not the domain itself.
    Subdomains(String),
}

/// A parsed allow-list of site hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    patterns: Vec<Pattern>,
}

impl Default for AllowedHosts {
    fn default() -> Self {
        AllowedHosts::parse(DEFAULT_ALLOWED_SITE_HOSTS).expect("the default list parses")
    }
}

impl fmt::Display for AllowedHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self
            .patterns
            .iter()
            .map(|p| match p {
                Pattern::Exact(h) => h.clone(),
                Pattern::Subdomains(d) => format!("*.{d}"),
            })
            .collect();
        f.write_str(&list.join(","))
    }
}

/// The host of a URL in the form the list compares: lowercase, IPv6 in brackets.
fn host_of(url: &Url) -> Option<String> {
    match url.host()? {
        Host::Domain(d) => Some(d.to_ascii_lowercase()),
        Host::Ipv4(ip) => Some(ip.to_string()),
        Host::Ipv6(ip) => Some(format!("[{ip}]")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl AllowedHosts {
    /// Parses a comma-separated list of hosts (`acme.example.com`, `127.0.0.1`) and subdomain patterns
    /// (`*.atlassian.net`). Entries are hosts only: no scheme, port, path or other wildcard.
    pub fn parse(text: &str) -> Result<AllowedHosts, String> {
        let mut patterns = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (wildcard, host) = match entry.strip_prefix("*.") {
                Some(rest) => (true, rest),
                None => (false, entry),
            };
            // The host as the URL parser normalizes it must be the entry itself: no port, path, user or
            // anything the parser would drop or rewrite (an IDN is given in its xn-- form).
            let normalized = Url::parse(&format!("https://{host}/"))
                .ok()
                .as_ref()
                .and_then(host_of)
                .filter(|h| *h == host.to_ascii_lowercase());
            match normalized {
                Some(h) if !h.contains('*') && (!wildcard || h.contains('.')) => {
                    patterns.push(if wildcard {
                        Pattern::Subdomains(h)
                    } else {
                        Pattern::Exact(h)
                    });
                }
                _ => {
                    return Err(format!(
                        "{entry:?} is not a host or a *.domain pattern (no scheme, port or path)"
                    ));
                }
            }
        }
        if patterns.is_empty() {
            return Err("the list of allowed site hosts is empty".into());
        }
        Ok(AllowedHosts { patterns })
    }

    /// True when the URL's host matches an entry.
    pub fn allows(&self, url: &Url) -> bool {
        self.matching(url).is_some()
    }

    fn matching(&self, url: &Url) -> Option<&Pattern> {
        let host = host_of(url)?;
        self.patterns.iter().find(|p| match p {
            Pattern::Exact(h) => *h == host,
            Pattern::Subdomains(d) => host
                .strip_suffix(d.as_str())
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
        })
    }

    /// Checks a site URL before anything is sent to it: its host is allowed, and it uses https (http only
    /// for a loopback host that the list names exactly).
    pub fn check(&self, site: &Url) -> Result<(), JiraError> {
        let host = host_of(site).unwrap_or_default();
        let Some(pattern) = self.matching(site) else {
            return Err(JiraError::SiteNotAllowed {
                host,
                allowed: self.to_string(),
            });
        };
        match site.scheme() {
            "https" => Ok(()),
            "http" if is_loopback(site) && matches!(pattern, Pattern::Exact(_)) => Ok(()),
            other => Err(JiraError::Config(format!(
                "siteUrl must use https (got {other}://; http is accepted only for a loopback host named in \
                 --allowed-site-hosts)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Classify;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_default_allows_jira_cloud_sites_only() {
        let list = AllowedHosts::default();
        assert_eq!(list.to_string(), DEFAULT_ALLOWED_SITE_HOSTS);
        for ok in [
            "https://acme.atlassian.net",
            "https://ACME.Atlassian.NET/",
            "https://a.b.jira.com/x",
            "https://acme.atlassian.net:443",
        ] {
            assert!(list.check(&url(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "https://atlassian.net",
            "https://evilatlassian.net",
            "https://acme.atlassian.net.evil.com",
            "https://acme.atlassian.net.",
            "https://admin%40acme.atlassian.net@evil.com",
            "https://127.0.0.1",
            "https://localhost",
            "https://[::1]",
            "https://169.254.169.254",
        ] {
            let err = list.check(&url(bad)).unwrap_err();
            assert_eq!(err.reason(), "SiteNotAllowed", "{bad}");
            assert!(err.to_string().contains("--allowed-site-hosts"), "{err}");
        }
    }

    #[test]
    fn http_only_for_loopback_hosts_named_exactly() {
        let list = AllowedHosts::parse("127.0.0.1, localhost,[::1],jira.example.com").unwrap();
        assert!(list.check(&url("http://127.0.0.1:8080")).is_ok());
        assert!(list.check(&url("http://localhost:1/")).is_ok());
        assert!(list.check(&url("http://[::1]:1/")).is_ok());
        assert!(list.check(&url("https://jira.example.com")).is_ok());
        assert_eq!(
            list.check(&url("http://jira.example.com"))
                .unwrap_err()
                .reason(),
            "InvalidConfiguration"
        );
        assert_eq!(
            list.check(&url("http://127.0.0.2")).unwrap_err().reason(),
            "SiteNotAllowed"
        );
        let wild = AllowedHosts::parse("*.example.com").unwrap();
        assert!(wild.check(&url("https://jira.example.com")).is_ok());
        assert!(!wild.allows(&url("https://example.com")));
    }

    #[test]
    fn entries_are_hosts_only() {
        for bad in [
            "",
            " , ",
            "https://acme.atlassian.net",
            "acme.atlassian.net:443",
            "acme.atlassian.net/path",
            "*",
            "*.com.*",
            "a.*.net",
            "*.net*",
            "user@host",
        ] {
            assert!(AllowedHosts::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            AllowedHosts::parse(" *.Example.COM ,127.0.0.1")
                .unwrap()
                .to_string(),
            "*.example.com,127.0.0.1"
        );
    }
}
