//! Writing to the cluster: reports by server-side apply (field manager
//! `palisade`), deleting the reports Palisade owns that an audit no longer
//! produces, deleting objects with a UID precondition.

use super::limit::RateLimit;
use super::list::request;
use super::ListError;
use crate::policy_report::ReportApi;
use http::{Method, StatusCode};
use http_body_util::BodyExt as _;
use kube::client::Body;
use kube::Client;
use serde::Serialize;
use serde_json::{json, Value};

/// The field manager of every write.
pub const FIELD_MANAGER: &str = "palisade";
/// The label selecting the reports Palisade owns.
pub const OWNED_SELECTOR: &str = "app.kubernetes.io/managed-by=palisade";

/// What writing the reports did.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// Reports applied (`namespace/name` or `name`).
    pub applied: Vec<String>,
    /// Stale reports deleted.
    pub deleted: Vec<String>,
    /// Writes that failed, with the reason.
    pub failed: Vec<String>,
}

/// An object's address: API version, resource (plural), namespace, name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// `group/version` or `v1`.
    pub api_version: String,
    /// The resource name (plural).
    pub plural: String,
    /// The namespace, for namespaced objects.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl ObjectRef {
    /// The object's URL path.
    pub fn path(&self) -> String {
        let base = if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        };
        match &self.namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{}/{}", self.plural, self.name),
            None => format!("{base}/{}/{}", self.plural, self.name),
        }
    }

    /// `namespace/name` or `name`.
    pub fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The resource name of a report kind (the four report kinds of both
/// APIs are plain plurals, as their CRDs name them).
fn report_plural(kind: &str) -> String {
    format!("{}s", kind.to_lowercase())
}

/// The address of a report (its apiVersion, kind, namespace and name).
pub fn report_ref(report: &Value) -> Option<ObjectRef> {
    let kind = report["kind"].as_str()?;
    Some(ObjectRef {
        api_version: report["apiVersion"].as_str()?.to_string(),
        plural: report_plural(kind),
        namespace: report["metadata"]["namespace"].as_str().map(str::to_string),
        name: report["metadata"]["name"].as_str()?.to_string(),
    })
}

/// Applies `reports` (server-side apply, forced: Palisade owns them), then
/// deletes the reports of `api` labelled as Palisade's that are not among
/// them: namespaces without findings any more lose their report.
pub async fn apply_reports(
    client: &Client,
    limit: &RateLimit,
    reports: &[Value],
    api: ReportApi,
) -> Outcome {
    let mut out = Outcome::default();
    let mut kept = Vec::new();
    for report in reports {
        let Some(r) = report_ref(report) else {
            out.failed.push("a report without kind or name".into());
            continue;
        };
        limit.wait().await;
        match server_side_apply(client, &r, report).await {
            Ok(()) => out.applied.push(r.label()),
            Err(e) => out.failed.push(format!("apply {}: {e}", r.path())),
        }
        kept.push(r);
    }
    for cluster in [false, true] {
        let plural = report_plural(api.kind(cluster));
        let owned = match owned_reports(client, limit, api.api_version(), &plural).await {
            Ok(o) => o,
            Err(e) => {
                out.failed
                    .push(format!("list {plural} to remove stale ones: {e}"));
                continue;
            }
        };
        for (r, uid) in owned.into_iter().filter(|(r, _)| !kept.contains(r)) {
            limit.wait().await;
            match delete(client, &r, uid.as_deref()).await {
                Ok(()) => out.deleted.push(r.label()),
                Err(e) => out.failed.push(format!("delete {}: {e}", r.path())),
            }
        }
    }
    out
}

/// `PATCH` with `application/apply-patch+yaml` (JSON is YAML).
pub async fn server_side_apply(
    client: &Client,
    r: &ObjectRef,
    object: &Value,
) -> Result<(), ListError> {
    let uri = format!("{}?fieldManager={FIELD_MANAGER}&force=true", r.path());
    let body = serde_json::to_vec(object).map_err(|e| ListError::Request(e.to_string()))?;
    let req = request(Method::PATCH, &uri, body, "application/apply-patch+yaml")?;
    send(client, req).await.map(drop)
}

/// `DELETE`, with a UID precondition when one is given (so an object
/// recreated under the same name since it was read is left alone).
pub async fn delete(client: &Client, r: &ObjectRef, uid: Option<&str>) -> Result<(), ListError> {
    let mut opts = json!({"apiVersion": "v1", "kind": "DeleteOptions"});
    if let Some(uid) = uid {
        opts["preconditions"] = json!({"uid": uid});
    }
    let body = serde_json::to_vec(&opts).map_err(|e| ListError::Request(e.to_string()))?;
    let req = request(Method::DELETE, &r.path(), body, "application/json")?;
    match send(client, req).await {
        Ok(_) => Ok(()),
        Err(ListError::Status {
            status: StatusCode::NOT_FOUND,
            ..
        }) => Ok(()), // already gone
        Err(e) => Err(e),
    }
}

/// The reports of `plural` in every namespace that carry Palisade's label.
async fn owned_reports(
    client: &Client,
    limit: &RateLimit,
    api_version: &str,
    plural: &str,
) -> Result<Vec<(ObjectRef, Option<String>)>, ListError> {
    limit.wait().await;
    let uri = format!(
        "/apis/{api_version}/{plural}?labelSelector={}",
        OWNED_SELECTOR.replace('/', "%2F")
    );
    let req = request(Method::GET, &uri, Vec::new(), "application/json")?;
    let list = send(client, req).await?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    Ok(items
        .iter()
        .filter_map(|i| {
            let name = i["metadata"]["name"].as_str()?;
            Some((
                ObjectRef {
                    api_version: api_version.to_string(),
                    plural: plural.to_string(),
                    namespace: i["metadata"]["namespace"].as_str().map(str::to_string),
                    name: name.to_string(),
                },
                i["metadata"]["uid"].as_str().map(str::to_string),
            ))
        })
        .collect())
}

/// Sends `req`; a non-success status is an error carrying the server's message.
async fn send(client: &Client, req: http::Request<Body>) -> Result<Value, ListError> {
    let res = client
        .send(req)
        .await
        .map_err(|e| ListError::Request(e.to_string()))?;
    let status = res.status();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| ListError::Request(e.to_string()))?
        .to_bytes();
    if !status.is_success() {
        return Err(ListError::status(status, &body, ""));
    }
    Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
}
