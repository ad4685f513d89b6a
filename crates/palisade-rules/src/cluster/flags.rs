//! The command-line flags of a kube-apiserver static pod.
//!
//! A Pod is a kube-apiserver pod when one of its containers runs the
//! `kube-apiserver` binary (`command[0]`, any directory) or is named
//! `kube-apiserver` with an image called `kube-apiserver`. Flags come from
//! the rest of `command` and from `args`; an element may hold several flags
//! separated by spaces; `--flag=value`, `--flag value` and a bare `--flag`
//! (true) are understood, and a later flag wins, as with the server's own
//! flag parser.

use palisade_core::{Field, FieldPath, Resource};
use serde_json::Value;

/// One flag as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// Its name without dashes.
    pub name: String,
    /// Its value (`true` for a bare flag).
    pub value: String,
    /// The list element it is in.
    pub path: FieldPath,
}

/// The flags of the kube-apiserver container of a pod.
#[derive(Debug, Clone)]
pub struct ApiServerFlags {
    /// Every flag, in order.
    pub flags: Vec<Flag>,
    /// The path of the container's `command` (or `args` when it has no command).
    pub list_path: FieldPath,
}

impl ApiServerFlags {
    /// The flags of `res` when it is a kube-apiserver pod.
    pub fn of(res: &Resource) -> Option<ApiServerFlags> {
        if res.id.kind != "Pod" {
            return None;
        }
        let Some(Value::Array(containers)) =
            res.value.field("spec").and_then(|s| s.field("containers"))
        else {
            return None;
        };
        let (i, c) = containers
            .iter()
            .enumerate()
            .find(|(_, c)| is_apiserver(c))?;
        let base = FieldPath::parse("spec.containers").index(i);
        let mut flags = Vec::new();
        let mut list_path = base.key("args");
        if let Some(Value::Array(cmd)) = c.field("command") {
            list_path = base.key("command");
            collect(
                &cmd[1.min(cmd.len())..],
                1,
                &base.key("command"),
                &mut flags,
            );
        }
        if let Some(Value::Array(args)) = c.field("args") {
            collect(args, 0, &base.key("args"), &mut flags);
        }
        Some(ApiServerFlags { flags, list_path })
    }

    /// The value of the last `--name`.
    pub fn get(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }
}

fn is_apiserver(c: &Value) -> bool {
    let str_of = |k: &str| c.field(k).and_then(Value::as_str).unwrap_or("");
    let binary = match c.field("command") {
        Some(Value::Array(cmd)) => cmd.first().and_then(Value::as_str).map(|s| {
            let first = s.split_whitespace().next().unwrap_or("");
            first.rsplit('/').next().unwrap_or("") == "kube-apiserver"
        }),
        _ => None,
    };
    binary.unwrap_or_else(|| {
        let image = str_of("image");
        let repo = image.split(['@', ':']).next().unwrap_or("");
        str_of("name") == "kube-apiserver" && repo.rsplit('/').next() == Some("kube-apiserver")
    })
}

fn collect(items: &[Value], offset: usize, path: &FieldPath, out: &mut Vec<Flag>) {
    let tokens: Vec<(usize, &str)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i + offset, v.as_str()?)))
        .flat_map(|(i, s)| s.split_whitespace().map(move |t| (i, t)))
        .collect();
    let mut k = 0;
    while k < tokens.len() {
        let (i, t) = tokens[k];
        k += 1;
        let Some(body) = t.strip_prefix("--").or_else(|| t.strip_prefix('-')) else {
            continue;
        };
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, v.to_string()),
            None => match tokens.get(k) {
                Some((_, next)) if !next.starts_with('-') => {
                    k += 1;
                    (body, next.to_string())
                }
                _ => (body, "true".to_string()),
            },
        };
        out.push(Flag {
            name: name.to_string(),
            value,
            path: path.index(i),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(container: Value) -> Resource {
        Resource::from_value(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "kube-apiserver-x", "namespace": "kube-system"},
            "spec": {"containers": [{"name": "sidecar", "image": "x"}, container]}}))
        .unwrap()
    }

    #[test]
    fn flags_in_every_spelling() {
        let p = pod(json!({"name": "a", "image": "i",
            "command": ["/usr/local/bin/kube-apiserver", "--profiling=false", "--anonymous-auth", "false",
                        "--a=1 --b=2", "--enable-x"],
            "args": ["--profiling=true"]}));
        let f = ApiServerFlags::of(&p).unwrap();
        assert_eq!(f.get("anonymous-auth").unwrap().value, "false");
        assert_eq!(
            f.get("b").unwrap().path.render(),
            "spec.containers[1].command[4]"
        );
        assert_eq!(f.get("enable-x").unwrap().value, "true");
        assert_eq!(
            f.get("profiling").unwrap().value,
            "true",
            "the last one wins"
        );
        assert_eq!(f.list_path.render(), "spec.containers[1].command");
    }

    #[test]
    fn image_and_name_identify_a_pod_without_command() {
        let p = pod(
            json!({"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.30.1",
            "args": ["--authorization-mode=RBAC"]}),
        );
        let f = ApiServerFlags::of(&p).unwrap();
        assert_eq!(f.get("authorization-mode").unwrap().value, "RBAC");
        assert!(ApiServerFlags::of(&pod(json!({"name": "web", "image": "nginx"}))).is_none());
    }
}
