//! Field paths inside an object, such as `spec.volumes[0].hostPath`.

use smol_str::SmolStr;
use std::fmt;

/// One step of a [`FieldPath`]: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A key of a mapping (kept inline up to 23 bytes, so building and
    /// copying paths of ordinary keys does not allocate per step).
    Key(SmolStr),
    /// An index into a sequence.
    Index(usize),
}

/// A path from the root of an object to one of its fields.
///
/// Displayed as kubectl's JSONPath-like notation: `spec.containers[0].image`;
/// keys that are not plain identifiers are quoted:
/// `metadata.annotations["palisade.io/ignore"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<Seg>);

impl FieldPath {
    /// The empty path (the object itself).
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// Parses a dotted path; `[N]` steps are indices. Keys cannot contain dots here.
    pub fn parse(s: &str) -> Self {
        let mut segs = Vec::new();
        for part in s.split('.').filter(|p| !p.is_empty()) {
            let mut rest = part;
            if let Some(i) = rest.find('[') {
                if i > 0 {
                    segs.push(Seg::Key(SmolStr::new(&rest[..i])));
                }
                rest = &rest[i..];
                while let Some(stripped) = rest.strip_prefix('[') {
                    let Some(end) = stripped.find(']') else { break };
                    match stripped[..end].parse::<usize>() {
                        Ok(n) => segs.push(Seg::Index(n)),
                        Err(_) => {
                            segs.push(Seg::Key(SmolStr::new(stripped[..end].trim_matches('"'))))
                        }
                    }
                    rest = &stripped[end + 1..];
                }
            } else {
                segs.push(Seg::Key(SmolStr::new(rest)));
            }
        }
        FieldPath(segs)
    }

    /// A new path with `key` appended.
    pub fn key(&self, key: &str) -> Self {
        self.with(Seg::Key(SmolStr::new(key)))
    }

    /// A new path with `index` appended.
    pub fn index(&self, index: usize) -> Self {
        self.with(Seg::Index(index))
    }

    /// This path with `key` appended, reusing its storage (no copy of the
    /// steps, unlike [`FieldPath::key`]).
    pub fn with_key(mut self, key: &str) -> Self {
        self.0.push(Seg::Key(SmolStr::new(key)));
        self
    }

    /// This path with `index` appended, reusing its storage.
    pub fn with_index(mut self, index: usize) -> Self {
        self.0.push(Seg::Index(index));
        self
    }

    /// A copy with `seg` appended, allocated once at its final length.
    fn with(&self, seg: Seg) -> Self {
        let mut v = Vec::with_capacity(self.0.len() + 1);
        v.extend_from_slice(&self.0);
        v.push(seg);
        FieldPath(v)
    }

    /// A new path with every step of `other` appended.
    pub fn join(&self, other: &FieldPath) -> Self {
        let mut p = self.clone();
        p.0.extend(other.0.iter().cloned());
        p
    }

    /// The steps of the path.
    pub fn segments(&self) -> &[Seg] {
        &self.0
    }

    /// Whether this is the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Resolves the path in a JSON value.
    pub fn get<'v>(&self, value: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        self.0.iter().try_fold(value, |v, seg| match seg {
            Seg::Key(k) => crate::value::Field::field(v, k.as_str()),
            Seg::Index(i) => v.get(*i),
        })
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl FieldPath {
    /// The path as text (what `to_string` gives), built in one allocation.
    pub fn render(&self) -> String {
        let estimate: usize = self
            .0
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.len() + 1,
                Seg::Index(_) => 4,
            })
            .sum();
        let mut out = String::with_capacity(estimate + 8);
        // Writing to a String cannot fail.
        let _ = self.write_to(&mut out);
        out
    }

    fn write_to<W: fmt::Write>(&self, w: &mut W) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        w.write_char('.')?;
                    }
                    w.write_str(k)?;
                }
                Seg::Key(k) => write!(w, "[{k:?}]")?,
                Seg::Index(n) => {
                    // Decimal digits without the formatting machinery.
                    let mut buf = [0u8; 20];
                    let mut at = buf.len();
                    let mut n = *n;
                    loop {
                        at -= 1;
                        buf[at] = b'0' + (n % 10) as u8;
                        n /= 10;
                        if n == 0 {
                            break;
                        }
                    }
                    w.write_char('[')?;
                    w.write_str(std::str::from_utf8(&buf[at..]).map_err(|_| fmt::Error)?)?;
                    w.write_char(']')?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_kubectl() {
        let p = FieldPath::root()
            .key("spec")
            .key("volumes")
            .index(0)
            .key("hostPath");
        assert_eq!(p.to_string(), "spec.volumes[0].hostPath");
        assert_eq!(p.render(), p.to_string());
        let big = FieldPath::root().key("items").index(1234567).key("a b");
        assert_eq!(big.render(), "items[1234567][\"a b\"]");
        assert_eq!(big.render(), big.to_string());
        assert_eq!(FieldPath::root().index(0).render(), "[0]");
        let a = FieldPath::root()
            .key("metadata")
            .key("annotations")
            .key("palisade.io/ignore");
        assert_eq!(
            a.to_string(),
            "metadata.annotations[\"palisade.io/ignore\"]"
        );
    }

    #[test]
    fn appending_in_place_equals_copying() {
        let base = FieldPath::parse("spec.template.spec");
        let copied = base.key("containers").index(2).key("securityContext");
        let in_place = base
            .clone()
            .with_key("containers")
            .with_index(2)
            .with_key("securityContext");
        assert_eq!(copied, in_place);
        assert_eq!(
            in_place.to_string(),
            "spec.template.spec.containers[2].securityContext"
        );
        assert_eq!(base.segments().len(), 3);
    }

    #[test]
    fn parses_round_trip() {
        let p = FieldPath::parse("spec.jobTemplate.spec.template.spec.volumes[0].hostPath");
        assert_eq!(
            p.to_string(),
            "spec.jobTemplate.spec.template.spec.volumes[0].hostPath"
        );
        assert_eq!(p.segments().len(), 8);
    }
}
