//! Pod Security behaviour beyond single fixtures: actions per namespace
//! mode, exemptions that need the admission request, one finding per field
//! with the workload rules, and profile options.

use palisade_core::yaml::parse_stream;
use palisade_core::{
    Action, Config, Context, Extensions, Inventory, Operation, PolicySet, RequestInfo, Resource,
};
use palisade_rules::pss::{PssProvider, PssSettings};
use palisade_rules::{profile, workload, ProfileError, ProfileOptions};
use serde_json::json;
use std::sync::Arc;

fn objects(text: &str) -> Vec<Arc<Resource>> {
    let file: Arc<str> = Arc::from("input.yaml");
    parse_stream(text)
        .into_iter()
        .flat_map(|d| Resource::from_document(d.unwrap(), &file))
        .map(Arc::new)
        .collect()
}

fn pss(level: &str, version: Option<&str>) -> PolicySet {
    let opts = ProfileOptions {
        pss_version: version.map(str::to_string),
    };
    let rules = profile(&format!("pss-{level}"), &opts).unwrap();
    PolicySet::builder(Config::default())
        .rules(rules)
        .build()
        .unwrap()
}

const POD_IN_TEAM: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec:\n  containers:\n  - name: c\n    image: c:1\n    securityContext: {privileged: true}\n";

#[test]
fn each_mode_gives_its_action() {
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    pod-security.kubernetes.io/audit: restricted\n---\n";
    let inv = Inventory::new(objects(&format!("{ns}{POD_IN_TEAM}")));
    let set = pss("baseline", None);
    let evals = set.evaluate_inventory(&inv, jiff::Timestamp::UNIX_EPOCH);
    let f = &evals[1].findings;
    let privileged = f.iter().find(|f| &*f.rule == "pss-privileged").unwrap();
    assert_eq!(privileged.action, Action::Enforce);
    assert!(privileged
        .message
        .starts_with("violates PodSecurity \"baseline:latest\": privileged"));
    let non_root = f
        .iter()
        .find(|f| &*f.rule == "pss-run-as-non-root")
        .unwrap();
    assert_eq!(non_root.action, Action::Audit);
    assert!(non_root.message.starts_with(
        "would violate PodSecurity \"restricted:latest\" (audit): runAsNonRoot != true"
    ));
    assert!(f
        .iter()
        .filter(|f| &*f.rule != "pss-privileged")
        .all(|f| f.action == Action::Audit));
}

#[test]
fn usernames_and_request_namespaces_exempt_at_admission() {
    let config = Config::parse(
        "pss:\n  exemptions:\n    usernames: [system:admin]\n    namespaces: [kube-system]\n",
        "palisade.yaml",
    )
    .unwrap();
    let settings = PssSettings::from_config(&config).unwrap();
    let mut ext = Extensions::default();
    palisade_core::ContextProvider::provide(
        &PssProvider::new(settings),
        &Inventory::default(),
        &mut ext,
    );
    let set = pss("baseline", None);
    let pod = Resource::from_value(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "c:1", "securityContext": {"privileged": true}}]}}))
    .unwrap();
    let inv = Inventory::default();
    let request = |user: &str, ns: &str| RequestInfo {
        operation: Operation::Create,
        old_object: None,
        username: user.to_string(),
        groups: vec![],
        sub_resource: None,
        dry_run: false,
        raw: json!({"namespace": ns}),
    };
    let mut ctx = Context::new(&inv, &ext, jiff::Timestamp::UNIX_EPOCH);
    let admin = request("system:admin", "apps");
    ctx.request = Some(&admin);
    assert!(set.evaluate(&pod, &ctx).findings.is_empty());
    let dev = request("dev", "apps");
    ctx.request = Some(&dev);
    assert_eq!(set.evaluate(&pod, &ctx).findings.len(), 1);
    let system = request("dev", "kube-system");
    ctx.request = Some(&system);
    assert!(set.evaluate(&pod, &ctx).findings.is_empty());
}

#[test]
fn a_field_both_families_check_is_one_finding() {
    let rules = workload::rules()
        .into_iter()
        .chain(profile("pss-restricted", &ProfileOptions::default()).unwrap());
    let set = PolicySet::builder(Config::default())
        .rules(rules)
        .build()
        .unwrap();
    let inv = Inventory::new(objects(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      volumes: [{name: h, hostPath: {path: /}}]\n      containers:\n      - name: c\n        image: c:1\n        ports: [{containerPort: 80, hostPort: 80}]\n        securityContext: {privileged: true, allowPrivilegeEscalation: true, runAsUser: 0, capabilities: {add: [SYS_ADMIN]}}\n",
    ));
    let findings = &set.evaluate_inventory(&inv, jiff::Timestamp::UNIX_EPOCH)[0].findings;
    let c = "spec.template.spec.containers[0]";
    for (path, a, b) in [
        (
            "spec.template.spec.hostNetwork".to_string(),
            "host-network",
            "pss-host-namespaces",
        ),
        (
            "spec.template.spec.volumes[0].hostPath".to_string(),
            "host-path-volume",
            "pss-restricted-volumes",
        ),
        (
            format!("{c}.ports[0].hostPort"),
            "host-port",
            "pss-host-ports",
        ),
        (
            format!("{c}.securityContext.privileged"),
            "privileged-container",
            "pss-privileged",
        ),
        (
            format!("{c}.securityContext.allowPrivilegeEscalation"),
            "privilege-escalation",
            "pss-allow-privilege-escalation",
        ),
        (
            format!("{c}.securityContext.runAsUser"),
            "run-as-root",
            "pss-run-as-user",
        ),
        (
            format!("{c}.securityContext.capabilities.add"),
            "capabilities-added",
            "pss-capabilities-restricted",
        ),
    ] {
        let at: Vec<_> = findings.iter().filter(|f| f.path == path).collect();
        assert_eq!(at.len(), 1, "{path}: {at:#?}");
        let rules: Vec<&str> = std::iter::once(&*at[0].rule)
            .chain(at[0].also.iter().map(|a| &**a))
            .collect();
        assert!(
            rules.contains(&a) && rules.contains(&b),
            "{path}: {rules:?}"
        );
    }
}

#[test]
fn profile_options_are_checked() {
    let bad = ProfileOptions {
        pss_version: Some("1.25".into()),
    };
    match profile("pss-baseline", &bad) {
        Err(ProfileError::BadOption(m)) => {
            assert!(m.contains("`1.25`") && m.contains("v1.N or latest"), "{m}")
        }
        other => panic!("expected a bad option, got {:?}", other.map(|r| r.len())),
    }
    for v in ["v1.0", "v1.37", "v1.99", "latest"] {
        let opts = ProfileOptions {
            pss_version: Some(v.into()),
        };
        let rules = profile("pss-restricted", &opts).unwrap();
        assert!(rules
            .iter()
            .all(|r| r.info().family == "pss" && r.info().id.starts_with("pss-")));
    }
    // v1.99 is newer than any check: the newest policy applies.
    let set = pss("baseline", Some("v1.99"));
    let pod = Resource::from_value(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_notsent_lowat", "value": "1"}]},
                 "containers": [{"name": "c", "image": "c:1"}]}}))
    .unwrap();
    let inv = Inventory::default();
    let ext = Extensions::default();
    let ctx = Context::new(&inv, &ext, jiff::Timestamp::UNIX_EPOCH);
    assert!(set.evaluate(&pod, &ctx).findings.is_empty());
    assert_eq!(
        pss("baseline", Some("v1.36"))
            .evaluate(&pod, &ctx)
            .findings
            .len(),
        1
    );
}
