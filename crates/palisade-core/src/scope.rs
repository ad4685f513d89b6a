//! Which objects a rule checks or a provider reads, and how much of them.
//!
//! The engine runs a rule only on the kinds its [`Scope`] names, and the
//! loader builds only what something reads: an object whose kind no rule
//! reads whole (a CustomResourceDefinition under the built-in profiles) is
//! kept as its identity and metadata, which is what suppressions, exemptions
//! and metadata-only rules look at.

use std::borrow::Cow;

/// How much of an object is read (and so must be built by the loader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Keep {
    /// `apiVersion`, `kind`, `metadata.name` and `metadata.namespace` only:
    /// what a context provider reads of objects it only counts or groups
    /// (the namespaces that have workloads). Only ever asked of objects
    /// held for the context ([`crate::PolicySet::context_keep`]); the loader
    /// builds at least [`Keep::Metadata`].
    Identity,
    /// `apiVersion`, `kind` and `metadata` only. Always kept: identity,
    /// labels and annotations are read by the engine itself.
    Metadata,
    /// The whole object.
    Whole,
}

/// The kinds something reads and how much of each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The kinds, by name (`None`: every kind).
    pub kinds: Option<Vec<Cow<'static, str>>>,
    /// How much of an object of those kinds is read.
    pub reads: Keep,
}

impl Scope {
    /// Every kind, whole: the safe default for what cannot say.
    pub fn all() -> Scope {
        Scope {
            kinds: None,
            reads: Keep::Whole,
        }
    }

    /// Nothing at all (no kind).
    pub fn none() -> Scope {
        Scope {
            kinds: Some(Vec::new()),
            reads: Keep::Metadata,
        }
    }

    /// The kinds named, whole.
    pub fn kinds(kinds: &[&'static str]) -> Scope {
        Scope {
            kinds: Some(kinds.iter().map(|k| Cow::Borrowed(*k)).collect()),
            reads: Keep::Whole,
        }
    }

    /// The kinds named (owned names), whole.
    pub fn kinds_owned<I: IntoIterator<Item = String>>(kinds: I) -> Scope {
        Scope {
            kinds: Some(kinds.into_iter().map(Cow::Owned).collect()),
            reads: Keep::Whole,
        }
    }

    /// The same kinds, reading only their metadata.
    pub fn metadata_only(mut self) -> Scope {
        self.reads = Keep::Metadata;
        self
    }

    /// The same kinds, identity only ([`Keep::Identity`]).
    pub fn identity_only(mut self) -> Scope {
        self.reads = Keep::Identity;
        self
    }

    /// Whether objects of `kind` are in scope.
    pub fn matches(&self, kind: &str) -> bool {
        match &self.kinds {
            None => true,
            Some(list) => list.iter().any(|k| k == kind),
        }
    }

    /// How much of an object of `kind` this scope reads (`None`: nothing).
    pub fn keep(&self, kind: &str) -> Option<Keep> {
        self.matches(kind).then_some(self.reads)
    }
}

impl Default for Scope {
    fn default() -> Self {
        Scope::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_match_their_kinds() {
        let s = Scope::kinds(&["Pod", "Deployment"]);
        assert!(s.matches("Pod"));
        assert!(!s.matches("Service"));
        assert_eq!(s.keep("Deployment"), Some(Keep::Whole));
        assert_eq!(s.keep("Service"), None);
        assert_eq!(Scope::all().keep("Anything"), Some(Keep::Whole));
        assert_eq!(Scope::none().keep("Pod"), None);
        assert_eq!(
            Scope::all().metadata_only().keep("Secret"),
            Some(Keep::Metadata)
        );
        assert!(Keep::Whole > Keep::Metadata);
    }
}
