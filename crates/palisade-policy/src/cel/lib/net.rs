//! Kubernetes' IP and CIDR libraries: `ip()`, `isIP()`, `cidr()`,
//! `isCIDR()` and their member functions, plus `string()` of both.

use super::{cel_fn, fail, global, member, opaque, str_arg};
use cel::common::types::{DYN_TYPE, STRING_TYPE};
use cel::objects::Opaque;
use cel::{DeclarationError, Env, ExecutionError, Value};
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::Arc;

/// An IP address value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ip(pub IpAddr);

/// A CIDR value: the address as written and its prefix length (`ipnet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr(pub IpNet);

impl Opaque for Ip {
    fn runtime_type_name(&self) -> &str {
        "net.IP"
    }
}

impl Opaque for Cidr {
    fn runtime_type_name(&self) -> &str {
        "net.CIDR"
    }
}

/// Parses an IP as Kubernetes does: no zones, no IPv4-mapped IPv6.
fn parse_ip(s: &str) -> Option<IpAddr> {
    if s.contains('%') {
        return None;
    }
    let ip: IpAddr = s.parse().ok()?;
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => None,
        _ => Some(ip),
    }
}

/// Parses a CIDR as Go's `netip.ParsePrefix`: the bits in decimal without
/// leading zeros, the address as [`parse_ip`] takes it.
fn parse_cidr(s: &str) -> Option<Cidr> {
    let (ip, bits) = s.split_once('/')?;
    let digits = !bits.is_empty() && bits.chars().all(|c| c.is_ascii_digit());
    if !digits || bits.len() > 1 && bits.starts_with('0') {
        return None;
    }
    IpNet::new(parse_ip(ip)?, bits.parse().ok()?).ok().map(Cidr)
}

impl Cidr {
    fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }
}

fn is_global_unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Registers the IP and CIDR functions.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    global(env, "ip", vec![STRING_TYPE], ip)?;
    global(env, "isIP", vec![STRING_TYPE], is_ip)?;
    global(env, "ip.isCanonical", vec![STRING_TYPE], is_canonical)?;
    global(env, "cidr", vec![STRING_TYPE], cidr)?;
    global(env, "isCIDR", vec![STRING_TYPE], is_cidr)?;
    global(env, "string", vec![DYN_TYPE], to_string)?;
    member(env, "family", DYN_TYPE, vec![], family)?;
    member(env, "isUnspecified", DYN_TYPE, vec![], is_unspecified)?;
    member(env, "isLoopback", DYN_TYPE, vec![], is_loopback)?;
    member(
        env,
        "isLinkLocalMulticast",
        DYN_TYPE,
        vec![],
        is_ll_multicast,
    )?;
    member(env, "isLinkLocalUnicast", DYN_TYPE, vec![], is_ll_unicast)?;
    member(env, "isGlobalUnicast", DYN_TYPE, vec![], is_global)?;
    member(env, "containsIP", DYN_TYPE, vec![DYN_TYPE], contains_ip)?;
    member(env, "containsCIDR", DYN_TYPE, vec![DYN_TYPE], contains_cidr)?;
    member(env, "ip", DYN_TYPE, vec![], cidr_ip)?;
    member(env, "masked", DYN_TYPE, vec![], masked)?;
    member(env, "prefixLength", DYN_TYPE, vec![], prefix_length)?;
    Ok(())
}

fn ip_val(ip: IpAddr) -> Value {
    Value::Opaque(Arc::new(Ip(ip)))
}

fn ip_arg(f: &str, a: &[Value], i: usize) -> Result<IpAddr, ExecutionError> {
    match a.get(i) {
        Some(Value::String(s)) => {
            parse_ip(s).ok_or_else(|| fail(f, format!("IP address {s:?} is invalid")))
        }
        _ => Ok(opaque::<Ip>(f, a, i)?.0),
    }
}

fn cidr_arg(f: &str, a: &[Value], i: usize) -> Result<Cidr, ExecutionError> {
    match a.get(i) {
        Some(Value::String(s)) => {
            parse_cidr(s).ok_or_else(|| fail(f, format!("CIDR {s:?} is invalid")))
        }
        _ => Ok(opaque::<Cidr>(f, a, i)?.clone()),
    }
}

cel_fn!(ip, |a| Ok(ip_val(ip_arg("ip", a, 0)?)));
cel_fn!(is_ip, |a| Ok(Value::Bool(
    parse_ip(str_arg("isIP", a, 0)?).is_some()
)));
cel_fn!(cidr, |a| Ok(Value::Opaque(Arc::new(cidr_arg(
    "cidr", a, 0
)?))));
cel_fn!(is_cidr, |a| Ok(Value::Bool(
    parse_cidr(str_arg("isCIDR", a, 0)?).is_some()
)));
cel_fn!(is_canonical, |a| {
    let s = str_arg("ip.isCanonical", a, 0)?;
    let ip = parse_ip(s).ok_or_else(|| {
        fail(
            "ip.isCanonical",
            format!("IP Address {s:?} parse error during conversion from string"),
        )
    })?;
    Ok(Value::Bool(ip.to_string() == s))
});
cel_fn!(to_string, |a| {
    if let Ok(ip) = opaque::<Ip>("string", a, 0) {
        return Ok(Value::String(Arc::new(ip.0.to_string())));
    }
    let c = opaque::<Cidr>("string", a, 0)?;
    Ok(Value::String(Arc::new(c.0.to_string())))
});
cel_fn!(family, |a| Ok(Value::Int(
    if ip_arg("family", a, 0)?.is_ipv4() {
        4
    } else {
        6
    }
)));
cel_fn!(is_unspecified, |a| Ok(Value::Bool(
    ip_arg("isUnspecified", a, 0)?.is_unspecified()
)));
cel_fn!(is_loopback, |a| Ok(Value::Bool(
    ip_arg("isLoopback", a, 0)?.is_loopback()
)));
cel_fn!(is_ll_multicast, |a| {
    Ok(Value::Bool(match ip_arg("isLinkLocalMulticast", a, 0)? {
        IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
        IpAddr::V6(v6) => (v6.segments()[0] & 0xff0f) == 0xff02,
    }))
});
cel_fn!(is_ll_unicast, |a| {
    Ok(Value::Bool(match ip_arg("isLinkLocalUnicast", a, 0)? {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }))
});
cel_fn!(is_global, |a| Ok(Value::Bool(is_global_unicast(&ip_arg(
    "isGlobalUnicast",
    a,
    0
)?))));
cel_fn!(contains_ip, |a| {
    let c = cidr_arg("containsIP", a, 0)?;
    Ok(Value::Bool(c.contains(&ip_arg("containsIP", a, 1)?)))
});
cel_fn!(contains_cidr, |a| {
    let c = cidr_arg("containsCIDR", a, 0)?;
    let o = cidr_arg("containsCIDR", a, 1)?;
    Ok(Value::Bool(c.0.contains(&o.0)))
});
cel_fn!(cidr_ip, |a| Ok(ip_val(cidr_arg("ip", a, 0)?.0.addr())));
cel_fn!(masked, |a| Ok(Value::Opaque(Arc::new(Cidr(
    cidr_arg("masked", a, 0)?.0.trunc()
)))));
cel_fn!(prefix_length, |a| Ok(Value::Int(
    cidr_arg("prefixLength", a, 0)?.0.prefix_len() as i64
)));
