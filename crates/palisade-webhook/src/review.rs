//! `admission.k8s.io/v1` AdmissionReview: reading requests, writing responses.

use palisade_core::{Operation, RequestInfo};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The only AdmissionReview version served.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// Why a body is not an AdmissionReview this server can answer (HTTP 400).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReviewError {
    /// The body is not JSON.
    #[error("request body is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an `admission.k8s.io/v1` AdmissionReview.
    #[error("not an admission.k8s.io/v1 AdmissionReview: {0}")]
    NotReview(String),
    /// No `request`.
    #[error("AdmissionReview has no request")]
    NoRequest,
    /// No `request.uid` (the response could not be matched to it).
    #[error("AdmissionReview request has no uid")]
    NoUid,
    /// An operation other than CREATE, UPDATE, DELETE and CONNECT.
    #[error("unknown operation `{0}` (expected CREATE, UPDATE, DELETE or CONNECT)")]
    BadOperation(String),
}

/// One admission request, parsed.
#[derive(Debug)]
pub struct Review {
    /// `request.uid`, echoed in the response.
    pub uid: String,
    /// The request info rules read. `raw` (the request without `object`
    /// and `oldObject`, which are in `subject` and `info.old_object`) is
    /// built only when asked for ([`Review::parse_with`]): CEL and Rego
    /// policies read it, the built-in rules do not; otherwise it is `null`.
    pub info: RequestInfo,
    /// `request.kind.kind` (the kind of the object).
    pub kind: String,
    /// `request.kind` whole: the type the API server will store.
    pub request_kind: RequestKind,
    /// `request.namespace` (empty for cluster-scoped objects).
    pub namespace: String,
    /// `request.name`.
    pub name: String,
    /// The object to check: `object`, or `oldObject` on DELETE (with
    /// apiVersion and kind filled in from `request.kind` when missing).
    pub subject: Option<Value>,
}

/// `request.kind`: group, version and kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestKind {
    /// The API group (empty for the core group).
    pub group: String,
    /// The version.
    pub version: String,
    /// The kind.
    pub kind: String,
}

/// The AdmissionReview as read: the envelope and the request fields Palisade
/// uses, strings borrowed from the body where they have no escapes; the
/// object and old object go straight into JSON values (one pass over the
/// body).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireReview<'a> {
    #[serde(borrow, default)]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    request: Option<WireRequest<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest<'a> {
    #[serde(borrow, default)]
    uid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<WireKind<'a>>,
    #[serde(borrow, default)]
    namespace: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    operation: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    sub_resource: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user_info: Option<WireUser<'a>>,
    #[serde(default)]
    dry_run: Option<bool>,
    #[serde(default)]
    object: Option<Value>,
    #[serde(default)]
    old_object: Option<Value>,
}

#[derive(Deserialize, Default)]
struct WireKind<'a> {
    #[serde(borrow, default)]
    group: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct WireUser<'a> {
    #[serde(borrow, default)]
    username: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    groups: Option<Vec<Cow<'a, str>>>,
}

/// The request uid of an AdmissionReview body, read without building
/// anything else (the answer to a request the webhook has no room for).
pub fn uid_of(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        request: Option<UidOnly<'a>>,
    }
    #[derive(Deserialize)]
    struct UidOnly<'a> {
        #[serde(borrow)]
        uid: Option<Cow<'a, str>>,
    }
    let env: Envelope<'_> = serde_json::from_slice(body).ok()?;
    let uid = env.request?.uid?;
    (!uid.is_empty()).then(|| uid.into_owned())
}

fn text(s: Option<Cow<'_, str>>) -> String {
    s.map(Cow::into_owned).unwrap_or_default()
}

impl Review {
    /// A review with only a uid (what is left to answer when the decision
    /// could not be made).
    pub fn placeholder(uid: String) -> Review {
        Review {
            uid,
            info: RequestInfo {
                operation: Operation::Create,
                old_object: None,
                username: String::new(),
                groups: Vec::new(),
                sub_resource: None,
                dry_run: false,
                raw: Value::Null,
            },
            kind: String::new(),
            request_kind: RequestKind::default(),
            namespace: String::new(),
            name: String::new(),
            subject: None,
        }
    }

    /// Parses a request body, with `info.raw` (as CEL and Rego policies need).
    pub fn parse(body: &[u8]) -> Result<Review, ReviewError> {
        Review::parse_with(body, true)
    }

    /// Parses a request body; `with_raw` also builds `info.raw` (a second
    /// pass over the body that skips the objects, for CEL and Rego
    /// policies), else it is `null`.
    pub fn parse_with(body: &[u8], with_raw: bool) -> Result<Review, ReviewError> {
        let wire: WireReview<'_> = serde_json::from_slice(body).map_err(|e| {
            if e.is_data() {
                ReviewError::NotReview(e.to_string())
            } else {
                ReviewError::NotJson(e.to_string())
            }
        })?;
        let kind = wire.kind.as_deref().unwrap_or("");
        let api = wire.api_version.as_deref().unwrap_or("");
        if kind != "AdmissionReview" || api != API_VERSION {
            return Err(ReviewError::NotReview(format!(
                "apiVersion `{api}`, kind `{kind}` (configure admissionReviewVersions: [v1])"
            )));
        }
        let req = wire.request.ok_or(ReviewError::NoRequest)?;
        let uid = match req.uid {
            Some(u) if !u.is_empty() => u.into_owned(),
            _ => return Err(ReviewError::NoUid),
        };
        let operation = match req.operation.as_deref().unwrap_or("") {
            "CREATE" => Operation::Create,
            "UPDATE" => Operation::Update,
            "DELETE" => Operation::Delete,
            "CONNECT" => Operation::Connect,
            other => return Err(ReviewError::BadOperation(other.to_string())),
        };
        let rkind = req.kind.unwrap_or_default();
        let object = req.object.filter(|v| !v.is_null());
        let old = req.old_object.filter(|v| !v.is_null());
        let subject = if operation == Operation::Delete {
            old.clone()
        } else {
            object
        };
        let subject = subject.map(|o| fill_type(o, &rkind));
        let (username, groups) = match req.user_info {
            Some(u) => (
                text(u.username),
                u.groups
                    .unwrap_or_default()
                    .into_iter()
                    .map(Cow::into_owned)
                    .collect(),
            ),
            None => (String::new(), Vec::new()),
        };
        let raw = if with_raw {
            raw_request(body)
        } else {
            Value::Null
        };
        let request_kind = RequestKind {
            group: text(rkind.group),
            version: text(rkind.version),
            kind: text(rkind.kind),
        };
        Ok(Review {
            uid,
            kind: request_kind.kind.clone(),
            request_kind,
            namespace: text(req.namespace),
            name: text(req.name),
            subject,
            info: RequestInfo {
                operation,
                old_object: old,
                username,
                groups,
                sub_resource: req
                    .sub_resource
                    .filter(|s| !s.is_empty())
                    .map(Cow::into_owned),
                dry_run: req.dry_run.unwrap_or(false),
                raw,
            },
        })
    }
}

/// `request` of an AdmissionReview body already known to be valid, without
/// `object` and `oldObject` (policies rebuild them from the subject).
fn raw_request(body: &[u8]) -> Value {
    #[derive(Deserialize)]
    struct Top {
        request: WithoutObjects,
    }
    match serde_json::from_slice::<Top>(body) {
        Ok(Top { request }) => Value::Object(request.0),
        Err(_) => Value::Null,
    }
}

/// A `request` mapping read without building its `object` and `oldObject`
/// (they are skipped while parsing, not built and dropped).
struct WithoutObjects(Map<String, Value>);

impl<'de> Deserialize<'de> for WithoutObjects {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = WithoutObjects;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an admission request object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Map::new();
                while let Some(key) = m.next_key::<String>()? {
                    if key == "object" || key == "oldObject" {
                        m.next_value::<serde::de::IgnoredAny>()?;
                    } else {
                        out.insert(key, m.next_value()?);
                    }
                }
                Ok(WithoutObjects(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// Sets `apiVersion` and `kind` of `obj` from `request.kind` when missing
/// (the API server always sends them, hand-made reviews may not).
fn fill_type(mut obj: Value, rkind: &WireKind<'_>) -> Value {
    if let Some(m) = obj.as_object_mut() {
        let g = rkind.group.as_deref().unwrap_or("");
        let v = rkind.version.as_deref().unwrap_or("");
        let k = rkind.kind.as_deref().unwrap_or("");
        if !m.contains_key("apiVersion") && !v.is_empty() {
            let api = if g.is_empty() {
                v.to_string()
            } else {
                format!("{g}/{v}")
            };
            m.insert("apiVersion".into(), Value::String(api));
        }
        if !m.contains_key("kind") && !k.is_empty() {
            m.insert("kind".into(), Value::String(k.to_string()));
        }
    }
    obj
}

/// `response.status`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    /// HTTP-like code (403 denied, 400 bad request).
    pub code: u16,
    /// What kubectl shows the user.
    pub message: String,
    /// `Forbidden`, `BadRequest`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// `response`.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The request's uid.
    pub uid: String,
    /// Whether the request is admitted.
    pub allowed: bool,
    /// Why not (or why the request could not be decided).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Warnings kubectl prints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Annotations for the audit log.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<String, String>,
    /// `JSONPatch` when there is a patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<&'static str>,
    /// The base64 JSON patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
}

impl Response {
    /// An admission with nothing to say.
    pub fn allow(uid: &str) -> Response {
        Response {
            uid: uid.to_string(),
            allowed: true,
            ..Response::default()
        }
    }

    /// A refusal with `code` and `message`.
    pub fn deny(uid: &str, code: u16, reason: &str, message: String) -> Response {
        Response {
            uid: uid.to_string(),
            allowed: false,
            status: Some(Status {
                code,
                message,
                reason: reason.to_string(),
            }),
            ..Response::default()
        }
    }

    /// The AdmissionReview around this response, encoded.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Envelope<'a> {
            api_version: &'static str,
            kind: &'static str,
            response: &'a Response,
        }
        serde_json::to_vec(&Envelope {
            api_version: API_VERSION,
            kind: "AdmissionReview",
            response: self,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_delete_with_old_object_and_fills_type() {
        let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",
            "kind":{"group":"apps","version":"v1","kind":"Deployment"},"operation":"DELETE","namespace":"a",
            "object":null,"oldObject":{"metadata":{"name":"d"}},"dryRun":true}}"#;
        let r = Review::parse(body).unwrap();
        assert_eq!(r.uid, "u1");
        assert_eq!(r.info.operation, Operation::Delete);
        assert!(r.info.dry_run);
        let s = r.subject.unwrap();
        assert_eq!(s["apiVersion"], "apps/v1");
        assert_eq!(s["kind"], "Deployment");
    }

    #[test]
    fn raw_request_only_when_asked_and_escaped_strings_decoded() {
        let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u\u00e9",
            "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
            "operation":"CREATE","namespace":"a\"b","userInfo":{"username":"alice","groups":["g1","g\n2"]},
            "object":{"metadata":{"name":"p"}},"oldObject":null,"options":{"kind":"CreateOptions"}}}"#;
        let lean = Review::parse_with(body, false).unwrap();
        assert_eq!(lean.uid, "u\u{e9}");
        assert_eq!(lean.namespace, "a\"b");
        assert_eq!(lean.info.groups, ["g1", "g\n2"]);
        assert!(lean.info.raw.is_null());
        assert_eq!(lean.subject.unwrap()["kind"], "Pod");
        let full = Review::parse(body).unwrap();
        let raw = &full.info.raw;
        assert_eq!(raw["resource"]["resource"], "pods");
        assert_eq!(raw["userInfo"]["username"], "alice");
        assert_eq!(raw["options"]["kind"], "CreateOptions");
        assert!(raw.get("object").is_none() && raw.get("oldObject").is_none());
    }

    #[test]
    fn rejects_what_is_not_a_review() {
        assert!(matches!(Review::parse(b"{"), Err(ReviewError::NotJson(_))));
        assert!(matches!(
            Review::parse(b"[1]"),
            Err(ReviewError::NotReview(_))
        ));
        let v1beta1 = br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}"#;
        assert!(matches!(
            Review::parse(v1beta1),
            Err(ReviewError::NotReview(_))
        ));
        let none = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#;
        assert_eq!(Review::parse(none).unwrap_err(), ReviewError::NoRequest);
        let nouid = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}"#;
        assert_eq!(Review::parse(nouid).unwrap_err(), ReviewError::NoUid);
        let badop = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"PATCH"}}"#;
        assert_eq!(
            Review::parse(badop).unwrap_err(),
            ReviewError::BadOperation("PATCH".into())
        );
        let wrong_type =
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":"x"}"#;
        assert!(matches!(
            Review::parse(wrong_type),
            Err(ReviewError::NotReview(_))
        ));
    }
}
