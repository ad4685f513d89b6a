//! Telling whether an environment variable holds a credential, by its name
//! or by its content.
//!
//! Names: words such as PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, API_KEY,
//! PRIVATE_KEY, ACCESS_KEY, CREDENTIAL(S) (any case, `_`, `-` or `.`
//! separated, or run together as in `APIKEY`), unless the name says the value
//! is only about the credential (`..._FILE`, `..._PATH`, `..._NAME`, `..._URL`,
//! `..._TTL`, `ENABLE_...`). Values that cannot be credentials (empty,
//! `true`/`false`, plain numbers, `$(VAR)` references, absolute paths) do not
//! count for a name match.
//!
//! A name that ends in `_ID` or `_ARN` (`SECRET_ID`, `TOKEN_ARN`) names a
//! secret kept elsewhere (a secret manager's ID, an ARN) when its value is an
//! identifier, a path or a URL without a credential format inside; then it
//! is not a credential. (`_NAME`, `_PATH`, `_FILE` and `_URL` are never
//! credentials by name, see above; their values are still checked for the
//! formats below.)
//!
//! A name whose last word is KEY (`LICENSE_KEY`, `GROUP_KEY`) counts only
//! when the value looks like generated key material (16 or more letters and
//! digits), so `CACHE_KEY=user-profile` is not reported.
//!
//! Contents: PEM private keys, AWS access key IDs, GitHub, GitLab, Slack,
//! Stripe, npm and Google API tokens, JSON Web Tokens and URLs with a
//! password, whatever the variable is called.

use regex::RegexSet;
use std::sync::LazyLock;

/// Words of a variable name that say it holds a credential.
const SECRET_WORDS: [&str; 9] = [
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "CREDENTIAL",
    "CREDENTIALS",
    "APIKEY",
    "PWD",
];

/// Word pairs that say it holds a key (`API_KEY`, `PRIVATE_KEY`, ...).
const KEY_QUALIFIERS: [&str; 8] = [
    "API",
    "PRIVATE",
    "ACCESS",
    "SECRET",
    "SIGNING",
    "ENCRYPTION",
    "MASTER",
    "AUTH",
];

/// Last words that make the variable about the credential, not the credential.
const META_SUFFIXES: [&str; 27] = [
    "FILE",
    "PATH",
    "DIR",
    "NAME",
    "REF",
    "URL",
    "URI",
    "ENDPOINT",
    "HEADER",
    "TYPE",
    "TTL",
    "EXPIRY",
    "EXPIRATION",
    "LENGTH",
    "ENABLED",
    "LOCATION",
    "SIZE",
    "SECONDS",
    "MINUTES",
    "HOURS",
    "DAYS",
    "TIMEOUT",
    "INTERVAL",
    "COUNT",
    "PORT",
    "VERSION",
    "MODE",
];

/// Last words that make the variable the name of a secret kept elsewhere
/// when its value is a reference (see [`value_is_reference`]).
const REFERENCE_SUFFIXES: [&str; 2] = ["ID", "ARN"];

/// First words that make the variable a switch about the credential.
const META_PREFIXES: [&str; 4] = ["ENABLE", "DISABLE", "USE", "REQUIRE"];

/// Whether the variable's name says it holds a credential.
pub fn name_is_secret(name: &str) -> bool {
    words_are_secret(&split_words(name))
}

/// [`name_is_secret`] on the name's words.
fn words_are_secret(words: &[String]) -> bool {
    let Some(last) = words.last() else {
        return false;
    };
    if words.len() > 1
        && (META_SUFFIXES.contains(&last.as_str()) || META_PREFIXES.contains(&words[0].as_str()))
    {
        return false;
    }
    // `PWD` alone is the shell's working directory.
    if words.len() == 1 && words[0] == "PWD" {
        return false;
    }
    let joined: String = words.concat();
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || words
            .windows(2)
            .any(|p| p[1] == "KEY" && KEY_QUALIFIERS.contains(&p[0].as_str()))
        || [
            "PASSWORD",
            "PASSWD",
            "APIKEY",
            "SECRETKEY",
            "PRIVATEKEY",
            "ACCESSKEY",
        ]
        .iter()
        .any(|w| joined.contains(w))
}

/// Splits a name into upper-case words at `_`, `-`, `.` and camelCase humps.
fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in name.split(['_', '-', '.', ' ']).filter(|p| !p.is_empty()) {
        let mut word = String::new();
        let mut prev_lower = false;
        for ch in part.chars() {
            if ch.is_uppercase() && prev_lower && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
            if ch.is_ascii() {
                word.push(ch.to_ascii_uppercase());
            } else {
                word.extend(ch.to_uppercase());
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// Whether a value cannot be a credential: empty, a boolean word, a short
/// number (below six characters: a PIN of six digits or more is a credential),
/// a `$(VAR)`/`${VAR}` reference, or an absolute file path.
pub fn value_is_inert(value: &str) -> bool {
    let v = value.trim();
    v.is_empty()
        || ["true", "false", "yes", "no", "on", "off", "none", "null"]
            .contains(&v.to_ascii_lowercase().as_str())
        || (v.len() < 6 && v.parse::<f64>().is_ok())
        || (v.starts_with("$(") || v.starts_with("${")) && v.ends_with(['}', ')'])
        || (v.starts_with('/') && !v.contains(char::is_whitespace))
}

/// Whether a value is an identifier, a path or a URL: one token (no
/// whitespace) of letters, digits and `.-_/:@+=,~%`, such as
/// `bq-readonly-key`, `projects/p/secrets/db/versions/3`,
/// `arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf` or
/// `https://vault.example/v1/kv/db`. Values with other punctuation
/// (`Tr0ub4dor&3`, `pa$$word!`) are not references.
pub fn value_is_reference(value: &str) -> bool {
    let v = value.trim();
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_/:@+=,~%".contains(&b))
}

/// What each of [`PATTERNS`] recognizes, in the same order.
const PATTERN_NAMES: [&str; 10] = [
    "a private key",
    "an AWS access key ID",
    "a GitHub token",
    "a GitLab token",
    "a Slack token",
    "a Stripe secret key",
    "an npm token",
    "a Google API key",
    "a JSON Web Token",
    "a URL with a password",
];

/// The well-known credential formats, in the order of [`PATTERN_NAMES`].
const PATTERN_TEXTS: [&str; 10] = [
    r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----",
    r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b",
    r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b",
    r"\bglpat-[A-Za-z0-9_-]{20,}",
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    r"\b[sr]k_live_[A-Za-z0-9]{20,}",
    r"\bnpm_[A-Za-z0-9]{36}\b",
    r"\bAIza[0-9A-Za-z_-]{35}",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:([^/\s@$]+)@[^\s]",
];

/// The formats as one set, matched in one pass over the value, and the
/// shortest text any of them matches (shorter values are not looked at).
struct Patterns {
    set: RegexSet,
    min_len: usize,
}

static PATTERNS: LazyLock<Option<Patterns>> = LazyLock::new(|| {
    let min_len = PATTERN_TEXTS
        .iter()
        .map(|p| {
            regex_syntax::parse(p)
                .ok()
                .and_then(|h| h.properties().minimum_len())
                .unwrap_or(0)
        })
        .min()
        .unwrap_or(0);
    Some(Patterns {
        set: RegexSet::new(PATTERN_TEXTS).ok()?,
        min_len,
    })
});

/// What the value looks like, when it looks like a well-known credential
/// (the first of [`PATTERN_NAMES`] that matches).
pub fn content_kind(value: &str) -> Option<&'static str> {
    let p = PATTERNS.as_ref()?;
    if value.len() < p.min_len || !p.set.is_match(value) {
        return None;
    }
    let first = p.set.matches(value).iter().next()?;
    PATTERN_NAMES.get(first).copied()
}

/// Why a variable is reported, or `None` when it looks harmless.
pub fn classify(name: &str, value: &str) -> Option<String> {
    if let Some(kind) = content_kind(value) {
        return Some(format!("its value looks like {kind}"));
    }
    let words = split_words(name);
    let names_a_reference = words.len() > 1
        && words
            .last()
            .is_some_and(|w| REFERENCE_SUFFIXES.contains(&w.as_str()))
        && value_is_reference(value);
    if words_are_secret(&words) && !value_is_inert(value) && !names_a_reference {
        return Some("its name says it holds a credential".to_string());
    }
    if words.last().is_some_and(|w| w == "KEY") && looks_random(value) {
        return Some("its name ends in KEY and its value looks like a random key".to_string());
    }
    None
}

/// Whether a value looks like generated key material: at least 16
/// characters of letters, digits and `+/=_-` with both letters and digits.
pub fn looks_random(value: &str) -> bool {
    let v = value.trim();
    v.len() >= 16
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b))
        && v.bytes().any(|b| b.is_ascii_digit())
        && v.bytes().any(|b| b.is_ascii_alphabetic())
        && !v.starts_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names() {
        for n in [
            "DB_PASSWORD",
            "password",
            "MYSQL_ROOT_PASSWORD",
            "dbPassword",
            "REDIS_PASSWD",
            "API_KEY",
            "apiKey",
            "STRIPE_APIKEY",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "GITHUB_TOKEN",
            "client-secret",
            "PRIVATE_KEY",
            "GOOGLE_CREDENTIALS",
            "DB_PWD",
            "JWT_SIGNING_KEY",
            "SSH_PASSPHRASE",
        ] {
            assert!(name_is_secret(n), "{n}");
        }
    }

    #[test]
    fn names_about_credentials_are_not_credentials() {
        for n in [
            "PASSWORD_FILE",
            "TOKEN_PATH",
            "SECRET_NAME",
            "TOKEN_URL",
            "ENABLE_TOKEN_AUTH",
            "PWD",
            "KEY",
            "CACHE_KEY_PREFIX",
            "HOSTNAME",
            "PASSWORD_LENGTH",
            "tokenTTL",
            "LOG_LEVEL",
            "MONKEY",
        ] {
            assert!(!name_is_secret(n), "{n}");
        }
    }

    #[test]
    fn inert_values() {
        for v in [
            "",
            " ",
            "true",
            "False",
            "3600",
            "0.5",
            "$(DB_PASS)",
            "${TOKEN}",
            "/var/run/secrets/token",
        ] {
            assert!(value_is_inert(v), "{v:?}");
        }
        for v in ["hunter2", "s3cr3t value", "changeme", "918273645"] {
            assert!(!value_is_inert(v), "{v:?}");
        }
    }

    #[test]
    fn values_shorter_than_every_format_are_skipped() {
        let min = PATTERNS.as_ref().map(|p| p.min_len);
        // "a://b:c@d", the shortest URL with a password.
        assert_eq!(min, Some(9));
        assert_eq!(content_kind("a://b:c@d"), Some("a URL with a password"));
        assert_eq!(content_kind("a://b:c@"), None);
    }

    #[test]
    fn well_known_formats() {
        let cases = [
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "a private key"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
            ("-----BEGIN PRIVATE KEY-----", "a private key"),
            ("AKIAIOSFODNN7EXAMPLE", "an AWS access key ID"),
            ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "a GitHub token"),
            ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "a GitHub token"),
            ("glpat-abcdefghij0123456789", "a GitLab token"),
            ("xoxb-123456789012-abcdefghij", "a Slack token"),
            ("sk_live_0123456789abcdefghijABCD", "a Stripe secret key"),
            ("npm_0123456789abcdefghijABCDEFGHIJ012345", "an npm token"),
            ("AIzaSyA0123456789abcdefghijklmnopqrstuv", "a Google API key"),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "a JSON Web Token"),
            ("postgres://app:hunter2@db:5432/app", "a URL with a password"),
        ];
        for (v, kind) in cases {
            assert_eq!(content_kind(v), Some(kind), "{v}");
        }
    }

    #[test]
    fn ordinary_values_are_not_credentials() {
        for v in [
            "postgres://db:5432/app",
            "http://$(USER):$(PASS)@host/",
            "https://example.com/a:b",
            "-----BEGIN CERTIFICATE-----",
            "AKIA-short",
            "info",
            "eyJ",
            "ssh-rsa AAAAB3Nza public",
        ] {
            assert_eq!(content_kind(v), None, "{v}");
        }
    }

    #[test]
    fn classify_combines_name_and_content() {
        assert!(classify("DB_PASSWORD", "hunter2").is_some());
        assert!(classify("DB_PASSWORD", "$(FROM_SECRET)").is_none());
        assert!(classify("CONFIG", "AKIAIOSFODNN7EXAMPLE")
            .unwrap()
            .contains("AWS"));
        assert!(classify("LOG_LEVEL", "debug").is_none());
        assert!(classify("PASSWORD_FILE", "/etc/secret/pw").is_none());
        assert!(classify("LICENSE_KEY", "9f86d081884c7d659a2feaa0c55ad015").is_some());
        assert!(classify("CACHE_KEY", "user-profile").is_none());
        assert!(classify("PARTITION_KEY", "tenant_id").is_none());
        assert!(classify("ROUTING_KEY", "/var/run/key-file-0123456789").is_none());
    }

    #[test]
    fn names_of_secrets_kept_elsewhere_are_not_credentials() {
        for (name, value) in [
            ("SECRET_ID", "bq-readonly-key"),
            (
                "DB_PASSWORD_ARN",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
            ),
            ("API_TOKEN_ID", "projects/shop/secrets/api-token/versions/3"),
            ("VAULT_SECRET_ID", "https://vault.example/v1/kv/data/db"),
            ("secretId", "4f1c2a9e-7b7d-4b8e-9c1a-0d3e5f6a7b8c"),
        ] {
            assert!(classify(name, value).is_none(), "{name}={value}");
        }
        // A credential format inside is still reported, and a value that is
        // not one token of identifier characters still counts by name.
        assert!(classify("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(classify("SECRET_ID", "ghp_0123456789abcdefghijABCDEFGHIJ012345").is_some());
        assert!(classify("SECRET_ID", "Tr0ub4dor&3 horse").is_some());
        assert!(classify("SECRET_ARN", "pa$$word!").is_some());
        assert!(classify("SECRET_IDENTITY", "bq-readonly-key").is_some());
        assert!(!value_is_reference(""));
    }
}
