//! The static CEL types of the load-time checker ([`super::check`]): the
//! standard types, the opaque types of Kubernetes' libraries and `dyn`, the
//! type of object fields (Palisade checks without the resource's schema).

use std::fmt;

/// A static CEL type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// bool
    Bool,
    /// int
    Int,
    /// uint
    Uint,
    /// double
    Double,
    /// string
    String,
    /// bytes
    Bytes,
    /// null_type
    Null,
    /// google.protobuf.Timestamp
    Timestamp,
    /// google.protobuf.Duration
    Duration,
    /// list(elem)
    List(Box<Ty>),
    /// map(key, value)
    Map(Box<Ty>, Box<Ty>),
    /// optional_type(value)
    Optional(Box<Ty>),
    /// An opaque type of a library (`net.IP`, `kubernetes.Quantity`, ...).
    Opaque(&'static str),
    /// type
    Type,
    /// Not known before evaluation.
    Dyn,
}

impl Ty {
    /// `list(t)`.
    pub fn list(t: Ty) -> Ty {
        Ty::List(Box::new(t))
    }

    /// `map(k, v)`.
    pub fn map(k: Ty, v: Ty) -> Ty {
        Ty::Map(Box::new(k), Box::new(v))
    }

    /// `optional_type(t)`.
    pub fn optional(t: Ty) -> Ty {
        Ty::Optional(Box::new(t))
    }

    /// Whether this is int, uint or double.
    pub fn numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Uint | Ty::Double)
    }

    /// Whether anything about this type is known.
    pub fn known(&self) -> bool {
        *self != Ty::Dyn
    }

    /// Whether a value of this type may be where `want` is expected
    /// (`dyn` on either side fits).
    pub fn fits(&self, want: &Ty) -> bool {
        self.unify(want).is_some()
    }

    /// The most specific type both `self` and `o` may be, if any.
    pub fn unify(&self, o: &Ty) -> Option<Ty> {
        match (self, o) {
            (Ty::Dyn, t) | (t, Ty::Dyn) => Some(t.clone()),
            (Ty::List(a), Ty::List(b)) => Some(Ty::list(a.unify(b)?)),
            (Ty::Optional(a), Ty::Optional(b)) => Some(Ty::optional(a.unify(b)?)),
            (Ty::Map(ak, av), Ty::Map(bk, bv)) => Some(Ty::map(ak.unify(bk)?, av.unify(bv)?)),
            (a, b) if a == b => Some(a.clone()),
            _ => None,
        }
    }

    /// The type of a value that may be of type `self` or `o` (list literal
    /// elements, the branches of `?:`): `dyn` when either is `dyn`, as
    /// cel-go joins them; `None` when they cannot mix.
    pub fn join(&self, o: &Ty) -> Option<Ty> {
        match (self, o) {
            (Ty::Dyn, _) | (_, Ty::Dyn) => Some(Ty::Dyn),
            _ => self.unify(o),
        }
    }

    /// The element type of a list, or the key type of a map (what a
    /// comprehension iterates over); `None` for anything else.
    pub fn iter_elem(&self) -> Option<Ty> {
        match self {
            Ty::List(e) => Some((**e).clone()),
            Ty::Map(k, _) => Some((**k).clone()),
            Ty::Dyn => Some(Ty::Dyn),
            _ => None,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Uint => f.write_str("uint"),
            Ty::Double => f.write_str("double"),
            Ty::String => f.write_str("string"),
            Ty::Bytes => f.write_str("bytes"),
            Ty::Null => f.write_str("null_type"),
            Ty::Timestamp => f.write_str("google.protobuf.Timestamp"),
            Ty::Duration => f.write_str("google.protobuf.Duration"),
            Ty::List(e) => write!(f, "list({e})"),
            Ty::Map(k, v) => write!(f, "map({k}, {v})"),
            Ty::Optional(t) => write!(f, "optional_type({t})"),
            Ty::Opaque(n) => f.write_str(n),
            Ty::Type => f.write_str("type"),
            Ty::Dyn => f.write_str("dyn"),
        }
    }
}

/// Parses a type as the signature table writes it: `int`, `list<T>`,
/// `map<K,V>`, `optional<T>`, an opaque name; a single capital letter is a
/// type parameter (returned as `Err(letter)` inside [`Pat`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pat {
    /// A concrete type.
    Ty(Ty),
    /// A type parameter.
    Param(char),
    /// list of a pattern
    List(Box<Pat>),
    /// map of patterns
    Map(Box<Pat>, Box<Pat>),
    /// optional of a pattern
    Optional(Box<Pat>),
}

/// The opaque type names of Kubernetes' libraries.
pub const OPAQUE: &[&str] = &[
    "net.IP",
    "net.CIDR",
    "kubernetes.Quantity",
    "kubernetes.Semver",
    "kubernetes.URL",
    "kubernetes.NamedFormat",
];

impl Pat {
    /// Parses `s` (the table's syntax; the table is code, so a bad entry
    /// is a programming error reported by the table's unit test).
    pub fn parse(s: &str) -> Option<Pat> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
            return Some(Pat::List(Box::new(Pat::parse(inner)?)));
        }
        if let Some(inner) = s
            .strip_prefix("optional<")
            .and_then(|r| r.strip_suffix('>'))
        {
            return Some(Pat::Optional(Box::new(Pat::parse(inner)?)));
        }
        if let Some(inner) = s.strip_prefix("map<").and_then(|r| r.strip_suffix('>')) {
            let (k, v) = split_top(inner)?;
            return Some(Pat::Map(Box::new(Pat::parse(k)?), Box::new(Pat::parse(v)?)));
        }
        if s.len() == 1 && s.chars().all(|c| c.is_ascii_uppercase()) {
            return s.chars().next().map(Pat::Param);
        }
        Some(Pat::Ty(match s {
            "bool" => Ty::Bool,
            "int" => Ty::Int,
            "uint" => Ty::Uint,
            "double" => Ty::Double,
            "string" => Ty::String,
            "bytes" => Ty::Bytes,
            "null" => Ty::Null,
            "timestamp" => Ty::Timestamp,
            "duration" => Ty::Duration,
            "type" => Ty::Type,
            "dyn" => Ty::Dyn,
            other => Ty::Opaque(OPAQUE.iter().find(|o| **o == other)?),
        }))
    }
}

fn split_top(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}
