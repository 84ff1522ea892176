//! Where the tenant's CRM connector may connect (SPEC 10): only to public addresses, so that a
//! tenant's `apiBaseUrl` cannot reach the service's own network (loopback, private and
//! link-local ranges, the instance metadata address 169.254.169.254, other reserved ranges).
//! The base URL is checked when saved (an address written in it) and, by the connector, every
//! address a name resolves to when connecting.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const NOT_HTTPS: &str = "must be an absolute https URL";

/// Whether loopback addresses over plain `http` are allowed too: only the local server's
/// `CRM_ALLOW_LOOPBACK=true` (development and tests), never a deployed function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConnectorPolicy {
    #[default]
    PublicOnly,
    AllowLoopback,
}

impl ConnectorPolicy {
    /// Whether the connector may connect to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        is_public(ip) || (self == ConnectorPolicy::AllowLoopback && is_loopback(ip))
    }

    /// Whether the connector may send plain `http` to `ip`: loopback, when allowed at all.
    pub fn allows_plain_http(self, ip: IpAddr) -> bool {
        self == ConnectorPolicy::AllowLoopback && is_loopback(ip)
    }

    /// `raw` as an `apiBaseUrl`: an absolute `https` URL whose host, when an address or a
    /// `localhost` name, the connector may reach (`http` with a loopback host when allowed).
    pub fn base_url(self, raw: &str) -> Result<(), String> {
        let url = url::Url::parse(raw).map_err(|_| NOT_HTTPS.to_owned())?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => self.checked(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.checked(IpAddr::V6(ip))?,
            Some(url::Host::Domain(name)) if is_localhost(name) => {
                self.checked(IpAddr::V4(Ipv4Addr::LOCALHOST))?
            }
            Some(url::Host::Domain(name)) if !name.is_empty() => false,
            _ => return Err(NOT_HTTPS.into()),
        };
        match url.scheme() {
            "https" => Ok(()),
            "http" if loopback => Ok(()),
            _ => Err(NOT_HTTPS.into()),
        }
    }

    /// Whether `ip` is loopback, when the policy allows it at all; an error naming why not.
    fn checked(self, ip: IpAddr) -> Result<bool, String> {
        if self.allows(ip) {
            Ok(is_loopback(ip))
        } else {
            Err(format!(
                "must be a public address: {ip} is in a loopback, private, link-local or reserved range"
            ))
        }
    }
}

/// `localhost` and its subdomains, which resolve to loopback (RFC 6761).
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Whether `ip` is a public unicast address: in none of the IANA special-purpose ranges that
/// are not globally reachable (RFC 6890 and its updates), IPv4 forms inside IPv6 judged by the
/// IPv4 address they carry.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, the instance metadata service
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let first = segments[0];
    let special = ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first & 0xff00) == 0xff00 // multicast
        || (first == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only
        || (first == 0x0064 && segments[1] == 0xff9b && segments[2] == 1) // local-use NAT64
        || (first == 0x2001 && segments[1] < 0x0200) // IETF protocol assignments (Teredo, ...)
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation
        || first == 0x3fff // documentation (RFC 9637)
        || (first == 0x5f00); // segment routing SIDs
    !special
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64's well-known prefix (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) != (0, 0) && (hi, lo) != (0, 1) => {
            Some(tail(hi, lo))
        }
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(tail(hi, lo)),
        [0x2002, hi, lo, ..] => Some(tail(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "2a00:1450::200e",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
        for special in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:0101::1",
            "64:ff9b:1::a00:1",
        ] {
            assert!(!is_public(ip(special)), "{special}");
        }
        assert!(is_public(ip("172.32.0.1")) && is_public(ip("100.128.0.1")));
        assert!(is_public(ip("::ffff:8.8.8.8")) && is_public(ip("64:ff9b::808:808")));
    }

    #[test]
    fn a_saved_base_url_names_a_reachable_host_over_https() {
        let public = ConnectorPolicy::PublicOnly;
        assert_eq!(public.base_url("https://crm.example.com/api"), Ok(()));
        assert_eq!(public.base_url("https://93.184.216.34"), Ok(()));
        for refused in [
            "http://crm.example.com",
            "https://127.0.0.1:8443",
            "https://169.254.169.254/latest/meta-data",
            "https://[::ffff:10.0.0.1]/",
            "https://[fd00::1]",
            "https://localhost:8443",
            "https://api.localhost",
            "http://127.0.0.1:9000",
            "ftp://crm.example.com",
            "crm.example.com",
        ] {
            assert!(public.base_url(refused).is_err(), "{refused}");
        }
        let local = ConnectorPolicy::AllowLoopback;
        assert_eq!(local.base_url("http://127.0.0.1:9000"), Ok(()));
        assert_eq!(local.base_url("http://[::1]:9000/crm"), Ok(()));
        assert_eq!(local.base_url("https://localhost:8443"), Ok(()));
        assert!(local.base_url("http://crm.example.com").is_err());
        assert!(local.base_url("http://10.0.0.1").is_err());
        assert!(local.base_url("https://169.254.169.254").is_err());
    }

    #[test]
    fn loopback_is_allowed_only_when_the_policy_says_so() {
        assert!(!ConnectorPolicy::PublicOnly.allows(ip("127.0.0.1")));
        assert!(ConnectorPolicy::AllowLoopback.allows(ip("127.0.0.1")));
        assert!(ConnectorPolicy::AllowLoopback.allows(ip("::ffff:127.0.0.1")));
        assert!(!ConnectorPolicy::AllowLoopback.allows(ip("192.168.0.1")));
    }
}
