//! `admission.k8s.io/v1` AdmissionReview: reading requests, writing responses.

use palisade_core::{Operation, RequestInfo};
use serde::Serialize;
use serde_json::{Map, Value};
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
    /// The request info rules read (`raw` is the request without `object`
    /// and `oldObject`, which are in `subject` and `info.old_object`).
    pub info: RequestInfo,
    /// `request.kind.kind` (the kind of the object).
    pub kind: String,
    /// `request.namespace` (empty for cluster-scoped objects).
    pub namespace: String,
    /// `request.name`.
    pub name: String,
    /// The object to check: `object`, or `oldObject` on DELETE (with
    /// apiVersion and kind filled in from `request.kind` when missing).
    pub subject: Option<Value>,
}

impl Review {
    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<Review, ReviewError> {
        let mut doc: Value =
            serde_json::from_slice(body).map_err(|e| ReviewError::NotJson(e.to_string()))?;
        let Some(top) = doc.as_object_mut() else {
            return Err(ReviewError::NotReview(
                "the body is not a JSON object".into(),
            ));
        };
        let kind = top.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = top.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if kind != "AdmissionReview" || api != API_VERSION {
            return Err(ReviewError::NotReview(format!(
                "apiVersion `{api}`, kind `{kind}` (configure admissionReviewVersions: [v1])"
            )));
        }
        let mut req = match top.remove("request") {
            Some(Value::Object(r)) => r,
            Some(Value::Null) | None => return Err(ReviewError::NoRequest),
            Some(_) => return Err(ReviewError::NotReview("`request` is not an object".into())),
        };
        let uid = match req.get("uid").and_then(Value::as_str) {
            Some(u) if !u.is_empty() => u.to_string(),
            _ => return Err(ReviewError::NoUid),
        };
        let text = |r: &Map<String, Value>, k: &str| {
            r.get(k).and_then(Value::as_str).unwrap_or("").to_string()
        };
        let op_text = text(&req, "operation");
        let operation = match op_text.as_str() {
            "CREATE" => Operation::Create,
            "UPDATE" => Operation::Update,
            "DELETE" => Operation::Delete,
            "CONNECT" => Operation::Connect,
            _ => return Err(ReviewError::BadOperation(op_text)),
        };
        let rkind = req.get("kind").cloned().unwrap_or(Value::Null);
        let kind_name = rkind
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // Moved out of `raw`: CEL and Rego policies rebuild `object` and
        // `oldObject` from the subject and `old_object`.
        let take = |r: &mut Map<String, Value>, k: &str| r.remove(k).filter(|v| !v.is_null());
        let object = take(&mut req, "object");
        let old = take(&mut req, "oldObject");
        let subject = if operation == Operation::Delete {
            old.clone()
        } else {
            object
        };
        let subject = subject.map(|o| fill_type(o, &rkind));
        let user = req.get("userInfo");
        let username = user
            .and_then(|u| u.get("username"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let groups = user
            .and_then(|u| u.get("groups"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect();
        let sub_resource = Some(text(&req, "subResource")).filter(|s| !s.is_empty());
        let dry_run = req.get("dryRun").and_then(Value::as_bool).unwrap_or(false);
        Ok(Review {
            uid,
            kind: kind_name,
            namespace: text(&req, "namespace"),
            name: text(&req, "name"),
            subject,
            info: RequestInfo {
                operation,
                old_object: old,
                username,
                groups,
                sub_resource,
                dry_run,
                raw: Value::Object(req),
            },
        })
    }
}

/// Sets `apiVersion` and `kind` of `obj` from `request.kind` when missing
/// (the API server always sends them, hand-made reviews may not).
fn fill_type(mut obj: Value, rkind: &Value) -> Value {
    if let Some(m) = obj.as_object_mut() {
        let g = rkind.get("group").and_then(Value::as_str).unwrap_or("");
        let v = rkind.get("version").and_then(Value::as_str).unwrap_or("");
        let k = rkind.get("kind").and_then(Value::as_str).unwrap_or("");
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
    }
}
