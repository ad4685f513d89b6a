//! The organisation's current identities, for authorization-decay analysis.
//!
//! Two formats:
//! - YAML or JSON: `{users: [...], groups: [...]}`; each entry is a name or a
//!   mapping with `name` (users may give `email` instead).
//! - CSV exported from an identity provider. The first row is a header (it is
//!   required: without one a user called `email` would be read as a column).
//!   Column names are matched ignoring case, spaces and punctuation:
//!   `type`/`kind` with `name` (rows of type `user` or `group`), or columns
//!   of user names (`email`, `user`, `username`, `login`, `mail`,
//!   `userPrincipalName`, `primaryEmail`, `emailAddress`) and of groups
//!   (`group`, `groups`, `groupName`, `memberOf`; several groups in one cell
//!   are separated by `;` or `|`). Other columns are ignored; a header with
//!   none of these is an error.
//!
//! Names are compared ignoring ASCII case (identity providers and OIDC
//! claims disagree on the case of e-mail addresses).

use palisade_core::yaml::parse_stream;
use palisade_core::Field;
use serde_json::Value;
use std::collections::HashSet;

/// An error reading a directory file, naming the place.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// YAML or JSON that does not parse.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What is wrong, with line and column.
        message: String,
    },
    /// Valid YAML or JSON of the wrong shape.
    #[error("{file}: {field}: {message}")]
    Shape {
        /// The file.
        file: String,
        /// The offending field, e.g. `users[3]`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A CSV file that cannot be read.
    #[error("{file}:{line}: {message}")]
    Csv {
        /// The file.
        file: String,
        /// The line.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

impl DirectoryError {
    /// The message without the file name (for reports that show the file apart).
    pub fn detail(&self) -> String {
        match self {
            DirectoryError::Parse { message, .. } => message.clone(),
            DirectoryError::Shape { field, message, .. } if field.is_empty() => message.clone(),
            DirectoryError::Shape { field, message, .. } => format!("{field}: {message}"),
            DirectoryError::Csv { line, message, .. } => format!("line {line}: {message}"),
        }
    }
}

/// The current users and groups.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    users: HashSet<String>,
    groups: HashSet<String>,
}

impl Directory {
    /// A directory of `users` and `groups`.
    pub fn new<U: Into<String>, G: Into<String>>(
        users: impl IntoIterator<Item = U>,
        groups: impl IntoIterator<Item = G>,
    ) -> Self {
        Directory {
            users: users
                .into_iter()
                .map(|u| u.into().to_ascii_lowercase())
                .collect(),
            groups: groups
                .into_iter()
                .map(|g| g.into().to_ascii_lowercase())
                .collect(),
        }
    }

    /// Reads `text` from `file`: CSV when the name ends in `.csv`, else YAML or JSON.
    pub fn parse(text: &str, file: &str) -> Result<Directory, DirectoryError> {
        if file.to_ascii_lowercase().ends_with(".csv") {
            parse_csv(text, file)
        } else {
            parse_yaml(text, file)
        }
    }

    /// Whether `name` is a current user.
    pub fn has_user(&self, name: &str) -> bool {
        self.users.contains(&name.to_ascii_lowercase())
    }

    /// Whether `name` is a current group.
    pub fn has_group(&self, name: &str) -> bool {
        self.groups.contains(&name.to_ascii_lowercase())
    }

    /// Number of users and groups.
    pub fn len(&self) -> (usize, usize) {
        (self.users.len(), self.groups.len())
    }
}

fn parse_yaml(text: &str, file: &str) -> Result<Directory, DirectoryError> {
    let shape = |field: &str, message: &str| DirectoryError::Shape {
        file: file.to_string(),
        field: field.to_string(),
        message: message.to_string(),
    };
    let mut docs = parse_stream(text);
    if docs.len() != 1 {
        return Err(shape(
            "",
            "expected one YAML or JSON document {users: [...], groups: [...]}",
        ));
    }
    let value = match docs.remove(0) {
        Ok(doc) => doc.value,
        Err(e) => {
            return Err(DirectoryError::Parse {
                file: file.to_string(),
                message: e.to_string(),
            })
        }
    };
    let Value::Object(map) = value else {
        return Err(shape(
            "",
            "expected a mapping {users: [...], groups: [...]}",
        ));
    };
    let mut dir = Directory::default();
    for (key, v) in &map {
        let target = match key.as_str() {
            "users" => &mut dir.users,
            "groups" => &mut dir.groups,
            other => return Err(shape(other, "unknown key (expected `users` and `groups`)")),
        };
        let Value::Array(items) = v else {
            return Err(shape(key, "expected a list"));
        };
        for (i, item) in items.iter().enumerate() {
            let name = match item {
                Value::String(s) => Some(s.as_str()),
                Value::Object(o) => o
                    .field("name")
                    .or_else(|| o.field("email"))
                    .and_then(Value::as_str),
                _ => None,
            };
            match name.map(str::trim).filter(|n| !n.is_empty()) {
                Some(n) => {
                    target.insert(n.to_ascii_lowercase());
                }
                None => {
                    return Err(shape(
                        &format!("{key}[{i}]"),
                        "expected a name, or a mapping with `name`",
                    ))
                }
            }
        }
    }
    Ok(dir)
}

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

const USER_COLUMNS: [&str; 9] = [
    "email",
    "user",
    "username",
    "login",
    "mail",
    "userprincipalname",
    "primaryemail",
    "emailaddress",
    "emailaddressrequired",
];
const GROUP_COLUMNS: [&str; 5] = ["group", "groups", "groupname", "memberof", "groupemail"];

fn parse_csv(text: &str, file: &str) -> Result<Directory, DirectoryError> {
    let err = |line: u64, message: String| DirectoryError::Csv {
        file: file.to_string(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| err(1, e.to_string()))?
        .iter()
        .map(normalise)
        .collect();
    let find = |names: &[&str]| -> Vec<usize> {
        (0..headers.len())
            .filter(|&i| names.contains(&headers[i].as_str()))
            .collect()
    };
    let type_col = find(&["type", "kind"]).first().copied();
    let name_col = find(&["name"]).first().copied();
    let user_cols = find(&USER_COLUMNS);
    let group_cols = find(&GROUP_COLUMNS);
    let typed = type_col.zip(name_col);
    if typed.is_none() && user_cols.is_empty() && group_cols.is_empty() {
        return Err(err(
            1,
            "the header names no identity column (expected `type` and `name`, or user columns such as `email`/`username` and group columns such as `group`)".into(),
        ));
    }
    let mut dir = Directory::default();
    for row in reader.records() {
        let row = row.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            err(line, e.to_string())
        })?;
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        if let Some((t, n)) = typed {
            let name = row.get(n).unwrap_or("");
            match row.get(t).unwrap_or("").to_ascii_lowercase().as_str() {
                _ if name.is_empty() => {}
                "user" => {
                    dir.users.insert(name.to_ascii_lowercase());
                }
                "group" => {
                    dir.groups.insert(name.to_ascii_lowercase());
                }
                other => {
                    return Err(err(
                        line,
                        format!("type `{other}` is neither `user` nor `group`"),
                    ))
                }
            }
        }
        for &c in &user_cols {
            if let Some(v) = row.get(c).filter(|v| !v.is_empty()) {
                dir.users.insert(v.to_ascii_lowercase());
            }
        }
        for &c in &group_cols {
            for g in row.get(c).unwrap_or("").split([';', '|']) {
                let g = g.trim();
                if !g.is_empty() {
                    dir.groups.insert(g.to_ascii_lowercase());
                }
            }
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json() {
        let d = Directory::parse(
            "users: [Alice@Example.com, {name: bob}]\ngroups: [sre]\n",
            "d.yaml",
        )
        .unwrap();
        assert!(d.has_user("alice@example.com") && d.has_user("bob") && d.has_group("SRE"));
        assert!(!d.has_user("carol"));
        let d = Directory::parse(r#"{"users": ["a"], "groups": []}"#, "d.json").unwrap();
        assert_eq!(d.len(), (1, 0));
    }

    #[test]
    fn bad_directories_name_the_place() {
        let e = Directory::parse("users: [a, 3]\n", "d.yaml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.yaml: users[1]: expected a name, or a mapping with `name`"
        );
        let e = Directory::parse("users: [a\n", "d.yaml").unwrap_err();
        assert!(e.to_string().starts_with("d.yaml: line "), "{e}");
        let e = Directory::parse("people: []\n", "d.yaml").unwrap_err();
        assert!(e.to_string().contains("people"), "{e}");
        let e = Directory::parse("id,display\n1,x\n", "d.csv").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("d.csv:1: the header names no identity"),
            "{e}"
        );
        let e = Directory::parse("email,group\na@x,sre\nb@x\n", "d.csv").unwrap_err();
        assert!(e.to_string().starts_with("d.csv:3:"), "{e}");
    }

    #[test]
    fn csv_exports() {
        let okta = "Username,First Name,Groups\nalice@x.io,Alice,sre;engineering\nbob@x.io,Bob,\n";
        let d = Directory::parse(okta, "okta.CSV").unwrap();
        assert!(d.has_user("alice@x.io") && d.has_user("bob@x.io"));
        assert!(d.has_group("sre") && d.has_group("engineering"));
        let typed = "type,name\nuser,carol\ngroup,ci\n";
        let d = Directory::parse(typed, "d.csv").unwrap();
        assert!(d.has_user("carol") && d.has_group("ci") && !d.has_user("ci"));
        let e = Directory::parse("type,name\nrobot,x\n", "d.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.csv:2: type `robot` is neither `user` nor `group`"
        );
    }
}
