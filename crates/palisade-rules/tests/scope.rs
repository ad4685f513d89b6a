//! The built-in profiles say which kinds they check and read, so the engine
//! runs each rule only on its kinds and the loader builds only what is read.

use palisade_core::{Config, Context, Extensions, Inventory, Keep, PolicySet, Resource};
use palisade_rules::registry::{profile, providers_for, ProfileOptions};
use serde_json::json;

/// The rules of profile `name`, with the context providers when `providers`.
fn set_with(name: &str, providers: bool) -> PolicySet {
    let config = Config::default();
    let mut b = PolicySet::builder(config.clone())
        .rules(profile(name, &ProfileOptions::default()).expect("profile"));
    if providers {
        for p in providers_for(&config).expect("providers") {
            b = b.provider(p);
        }
    }
    b.build().expect("policy set")
}

fn set(name: &str) -> PolicySet {
    set_with(name, true)
}

#[test]
fn default_profile_keeps_whole_only_what_it_reads() {
    let p = set("default");
    for kind in ["Pod", "Deployment", "CronJob", "PodTemplate"] {
        assert_eq!(
            p.keep(kind),
            Keep::Whole,
            "{kind}: checked by workload rules"
        );
    }
    for kind in ["Role", "ClusterRoleBinding", "ServiceAccount", "Namespace"] {
        assert_eq!(p.keep(kind), Keep::Whole, "{kind}: read by the RBAC graph");
    }
    for kind in ["ConfigMap", "Service", "Node", "NetworkPolicy"] {
        assert_eq!(
            p.keep(kind),
            Keep::Whole,
            "{kind}: checked by cluster rules"
        );
    }
    for kind in ["CustomResourceDefinition", "Secret", "Endpoints"] {
        assert_eq!(
            p.keep(kind),
            Keep::Metadata,
            "{kind}: only default-namespace reads it"
        );
    }
    for kind in ["MPIJob", "JobSet", "Rollout", "Workflow", "Task"] {
        assert_eq!(p.keep(kind), Keep::Whole, "{kind}: has pod templates");
    }
    // The loader decides by kind alone, so Knative's `Service` (pod
    // templates) keeps every Service whole.
    assert_eq!(p.keep("Service"), Keep::Whole);
    let workload_free = set_with("rbac", false);
    assert_eq!(
        workload_free.keep("MPIJob"),
        Keep::Metadata,
        "no pod rule: templates not read"
    );
}

#[test]
fn pss_profile_reads_namespaces_for_their_labels_only() {
    let p = set_with("pss-restricted", false);
    assert_eq!(p.keep("Pod"), Keep::Whole);
    assert_eq!(p.keep("Namespace"), Keep::Metadata);
    assert_eq!(p.keep("ServiceAccount"), Keep::Metadata);
}

#[test]
fn rules_run_only_on_their_kinds() {
    let p = set("default");
    let inv = Inventory::default();
    let ext = Extensions::default();
    let ctx = Context::new(&inv, &ext, jiff::Timestamp::now());
    // A kind no workload rule names, with a pod-like body: only the
    // metadata rule fires, the workload rules never look.
    let svc = Resource::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "s", "namespace": "default"},
        "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "x", "securityContext": {"privileged": true}}]}
    }))
    .expect("object");
    let rules: Vec<String> = p
        .evaluate(&svc, &ctx)
        .findings
        .into_iter()
        .map(|f| f.rule.to_string())
        .collect();
    assert_eq!(rules, ["default-namespace"]);
    let pod = Resource::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "x"}]}
    }))
    .expect("object");
    let rules: Vec<String> = p
        .evaluate(&pod, &ctx)
        .findings
        .into_iter()
        .map(|f| f.rule.to_string())
        .collect();
    assert!(rules.contains(&"host-network".to_string()), "{rules:?}");
    assert!(
        rules.contains(&"default-namespace".to_string()),
        "{rules:?}"
    );
}

/// A rule that says nothing of its scope: every kind, whole.
struct Unscoped(palisade_core::RuleInfo);

impl palisade_core::Rule for Unscoped {
    fn info(&self) -> &palisade_core::RuleInfo {
        &self.0
    }

    fn check(&self, _: &Resource, _: &Context<'_>, _: &mut palisade_core::Emitter<'_>) {}
}

#[test]
fn a_rule_without_a_scope_keeps_every_kind_whole() {
    let info = palisade_core::RuleInfo {
        id: "user-policy".into(),
        severity: palisade_core::Severity::Low,
        family: "policy".into(),
        title: String::new(),
        description: String::new(),
        remediation: String::new(),
    };
    let p = PolicySet::builder(Config::default())
        .rules(profile("pss-restricted", &ProfileOptions::default()).expect("profile"))
        .rule(std::sync::Arc::new(Unscoped(info)))
        .build()
        .expect("policy set");
    for kind in ["CustomResourceDefinition", "Namespace", "Pod"] {
        assert_eq!(p.keep(kind), Keep::Whole, "{kind}");
    }
}
