//! The object of a suite case, which may be a plain object or an
//! AdmissionReview carrying the request.

use palisade_core::{Operation, RequestInfo, Resource};
use serde_json::Value;

/// The object under review and the admission request around it, if any.
pub struct CaseObject {
    /// The object (the old object for a DELETE).
    pub resource: Resource,
    /// The request, when the case file is an AdmissionReview.
    pub request: Option<RequestInfo>,
}

/// Reads a case's object; AdmissionReviews give their request's object.
pub fn case_object(res: Resource) -> Result<CaseObject, String> {
    if res.id.kind != "AdmissionReview" {
        return Ok(CaseObject {
            resource: res,
            request: None,
        });
    }
    let req = res
        .value
        .get("request")
        .cloned()
        .ok_or("AdmissionReview without request")?;
    let operation = match req
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("CREATE")
    {
        "CREATE" => Operation::Create,
        "UPDATE" => Operation::Update,
        "DELETE" => Operation::Delete,
        "CONNECT" => Operation::Connect,
        other => return Err(format!("unknown operation `{other}`")),
    };
    let object = req.get("object").filter(|o| !o.is_null());
    let old = req.get("oldObject").filter(|o| !o.is_null());
    let subject = if operation == Operation::Delete {
        old.or(object)
    } else {
        object
    };
    let mut resource = subject
        .cloned()
        .and_then(Resource::from_value)
        .ok_or("AdmissionReview request has no object with apiVersion and kind")?;
    resource.source = res.source.clone();
    if resource.id.namespace.is_none() {
        resource.id.namespace = req
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let user = req.get("userInfo");
    let request = RequestInfo {
        operation,
        old_object: old.cloned(),
        username: user
            .and_then(|u| u.get("username"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        groups: user
            .and_then(|u| u.get("groups"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect(),
        sub_resource: req
            .get("subResource")
            .and_then(Value::as_str)
            .map(str::to_string),
        dry_run: req.get("dryRun").and_then(Value::as_bool).unwrap_or(false),
        raw: req,
    };
    Ok(CaseObject {
        resource,
        request: Some(request),
    })
}
