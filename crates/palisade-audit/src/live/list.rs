//! Listing one kind cluster-wide, page by page (`limit`/`continue`), with
//! throttling (429 + `Retry-After`) and expired continue tokens (410 Gone:
//! the list starts over) handled; metadata only when that is all the rules
//! read.

use super::limit::RateLimit;
use super::ListError;
use bytes::Bytes;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt as _;
use kube::api::ListParams;
use kube::client::Body;
use kube::discovery::ApiResource;
use kube::Client;
use serde_json::Value;
use std::time::Duration;

/// Throttled answers retried before giving up on a kind.
const MAX_THROTTLED: u32 = 8;
/// Expired continue tokens tolerated before giving up on a kind.
const MAX_RELISTS: u32 = 3;
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How one kind is listed.
pub struct Lister<'a> {
    /// The client.
    pub client: &'a Client,
    /// The shared rate limit.
    pub limit: &'a RateLimit,
    /// Objects per page.
    pub page_size: u32,
    /// Told of every page.
    pub progress: &'a dyn Progress,
}

/// What a live read tells as it goes (a progress bar).
pub trait Progress: Sync {
    /// `objects` of `kind` read so far (a relist starts again from 0).
    fn listed(&self, kind: &ApiResource, objects: usize);
    /// `kind` is done (`ok`: listed; else it could not be).
    fn finished(&self, kind: &ApiResource, ok: bool);
}

/// Tells nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn listed(&self, _: &ApiResource, _: usize) {}
    fn finished(&self, _: &ApiResource, _: bool) {}
}

/// What listing one kind gave.
#[derive(Debug, Default)]
pub struct Listed {
    /// The objects, with `apiVersion` and `kind` set (list items lack them).
    pub items: Vec<Value>,
    /// Requests sent (pages, retries and relists included).
    pub requests: u32,
    /// Times the list started over after a 410 Gone.
    pub relists: u32,
    /// Times a throttled request was retried.
    pub throttled: u32,
}

/// One answer of the API server.
struct Answer {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Bytes,
}

impl Lister<'_> {
    /// Every object of `ar` in every namespace; `metadata_only` asks for
    /// `PartialObjectMetadataList` pages.
    pub async fn list(&self, ar: &ApiResource, metadata_only: bool) -> Result<Listed, ListError> {
        let r = self.list_all(ar, metadata_only).await;
        self.progress.finished(ar, r.is_ok());
        r
    }

    async fn list_all(&self, ar: &ApiResource, metadata_only: bool) -> Result<Listed, ListError> {
        let mut out = Listed::default();
        let mut token: Option<String> = None;
        loop {
            let answer = self
                .page(ar, metadata_only, token.as_deref(), &mut out)
                .await?;
            if answer.status == StatusCode::GONE && token.is_some() {
                out.relists += 1;
                if out.relists > MAX_RELISTS {
                    return Err(ListError::status(
                        answer.status,
                        &answer.body,
                        "continue token expired again after relisting",
                    ));
                }
                out.items.clear();
                token = None;
                continue;
            }
            if !answer.status.is_success() {
                return Err(ListError::status(answer.status, &answer.body, ""));
            }
            let page: Value = serde_json::from_slice(&answer.body)
                .map_err(|e| ListError::Decode(e.to_string()))?;
            token = next_token(&page);
            append_items(page, ar, &mut out.items)?;
            self.progress.listed(ar, out.items.len());
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// One page, retried while throttled.
    async fn page(
        &self,
        ar: &ApiResource,
        metadata_only: bool,
        token: Option<&str>,
        out: &mut Listed,
    ) -> Result<Answer, ListError> {
        loop {
            self.limit.wait().await;
            out.requests += 1;
            let answer = self.send(ar, metadata_only, token).await?;
            if answer.status != StatusCode::TOO_MANY_REQUESTS {
                return Ok(answer);
            }
            out.throttled += 1;
            if out.throttled > MAX_THROTTLED {
                return Err(ListError::status(
                    answer.status,
                    &answer.body,
                    "still throttled after retries",
                ));
            }
            let wait = answer.retry_after.unwrap_or(Duration::from_secs(1));
            tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
        }
    }

    async fn send(
        &self,
        ar: &ApiResource,
        metadata_only: bool,
        token: Option<&str>,
    ) -> Result<Answer, ListError> {
        let mut lp = ListParams::default().limit(self.page_size);
        if let Some(t) = token {
            lp = lp.continue_token(t);
        }
        let req = kube::core::Request::new(collection_path(ar));
        let req = if metadata_only {
            req.list_metadata(&lp)
        } else {
            req.list(&lp)
        }
        .map_err(|e| ListError::Request(e.to_string()))?;
        let res = self
            .client
            .send(req.map(Body::from))
            .await
            .map_err(|e| ListError::Request(e.to_string()))?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| ListError::Request(e.to_string()))?
            .to_bytes();
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }
}

/// `/api/v1/pods` or `/apis/apps/v1/deployments`: every namespace.
pub fn collection_path(ar: &ApiResource) -> String {
    if ar.group.is_empty() {
        format!("/api/{}/{}", ar.version, ar.plural)
    } else {
        format!("/apis/{}/{}/{}", ar.group, ar.version, ar.plural)
    }
}

/// An empty request of `method` to `path`, as JSON.
pub fn request(
    method: http::Method,
    uri: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<Request<Body>, ListError> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .map_err(|e| ListError::Request(e.to_string()))
}

fn next_token(page: &Value) -> Option<String> {
    page.pointer("/metadata/continue")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// The page's items, each given the `apiVersion` and `kind` of `ar`.
fn append_items(page: Value, ar: &ApiResource, items: &mut Vec<Value>) -> Result<(), ListError> {
    let Value::Object(mut page) = page else {
        return Err(ListError::Decode(
            "a list page that is not an object".into(),
        ));
    };
    let Some(Value::Array(list)) = page.remove("items") else {
        return match page.get("items") {
            None | Some(Value::Null) => Ok(()),
            Some(_) => Err(ListError::Decode("items is not an array".into())),
        };
    };
    for item in list {
        let Value::Object(fields) = item else {
            return Err(ListError::Decode(
                "a list item that is not an object".into(),
            ));
        };
        let mut obj = serde_json::Map::with_capacity(fields.len() + 2);
        obj.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
        obj.insert("kind".into(), Value::String(ar.kind.clone()));
        for (k, v) in fields {
            if k != "apiVersion" && k != "kind" {
                obj.insert(k, v);
            }
        }
        items.push(Value::Object(obj));
    }
    Ok(())
}
