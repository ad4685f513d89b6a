//! Errors in user policies: each names the file, line and policy.

use palisade_core::{FieldPath, Resource};
use std::fmt;
use std::sync::Arc;

/// Where a policy error is: file, line and column, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    /// The file, if the policy came from one.
    pub file: Option<Arc<str>>,
    /// Line, from 1 (0 when unknown).
    pub line: u32,
    /// Column, from 1 (0 when unknown).
    pub column: u32,
}

impl Place {
    /// The place of `path` inside `res` (or of `res` itself).
    pub fn of(res: &Resource, path: &FieldPath) -> Place {
        let pos = res.locate(path).unwrap_or_default();
        Place {
            file: res.source.as_ref().map(|s| s.file.clone()),
            line: pos.line,
            column: pos.column,
        }
    }

    /// A file without a position.
    pub fn file(file: &str) -> Place {
        Place {
            file: Some(Arc::from(file)),
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            f.write_str(file)?;
            if self.line > 0 {
                write!(f, ":{}:{}", self.line, self.column)?;
            }
            f.write_str(": ")?;
        }
        Ok(())
    }
}

/// A policy that cannot be loaded or compiled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    /// A policy file that cannot be read or parsed.
    #[error("{place}{message}")]
    Read {
        /// Where.
        place: Place,
        /// What is wrong.
        message: String,
    },
    /// A policy object that is invalid (bad field, Rego that does not
    /// compile, a constraint naming a missing template, ...).
    #[error("{place}{policy}: {field}: {message}")]
    Invalid {
        /// Where.
        place: Place,
        /// The policy, e.g. `ConstraintTemplate k8srequiredlabels`.
        policy: String,
        /// The offending field, e.g. `spec.targets[0].rego`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A CEL expression that does not parse or type-check.
    #[error("{place}{policy}: {field}: expression `{expression}`: {message}")]
    Expression {
        /// Where.
        place: Place,
        /// The policy, e.g. `ValidatingAdmissionPolicy require-labels`.
        policy: String,
        /// The field holding the expression.
        field: String,
        /// The expression as written.
        expression: String,
        /// What is wrong.
        message: String,
    },
}

impl PolicyError {
    /// An invalid-field error at `path` of `res`.
    pub(crate) fn invalid(
        res: &Resource,
        policy: &str,
        path: &FieldPath,
        message: impl Into<String>,
    ) -> Self {
        PolicyError::Invalid {
            place: Place::of(res, path),
            policy: policy.to_string(),
            field: if path.is_root() {
                "(object)".into()
            } else {
                path.to_string()
            },
            message: message.into(),
        }
    }

    /// An expression error at `path` of `res`.
    pub(crate) fn expression(
        res: &Resource,
        policy: &str,
        path: &FieldPath,
        expression: &str,
        message: impl Into<String>,
    ) -> Self {
        PolicyError::Expression {
            place: Place::of(res, path),
            policy: policy.to_string(),
            field: path.to_string(),
            expression: expression.trim().to_string(),
            message: message.into(),
        }
    }
}
