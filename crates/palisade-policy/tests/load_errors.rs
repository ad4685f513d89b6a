//! Bad policies: each is a clear error naming the file, line, policy and
//! (for CEL) the expression; the good policies beside them still load.

use palisade_core::{Action, Context, Emitter, Extensions, Finding, Inventory, Resource, Severity};
use palisade_policy::files::parse_resources;
use palisade_policy::{load, load_lenient, LoadOptions};
use std::time::Duration;

const GOOD: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: good}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["*"], resources: ["pods"]}]
  validations: [{expression: "true"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: good}
spec: {policyName: good, validationActions: [Deny]}
"#;

fn vap(name: &str, expr_field: &str) -> String {
    format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: {name}}}\nspec:\n  matchConstraints:\n    resourceRules: [{{apiGroups: [\"\"], apiVersions: [\"v1\"], operations: [\"*\"], resources: [\"pods\"]}}]\n{expr_field}\n"
    )
}

fn errors_of(text: &str) -> Vec<String> {
    let all = format!("{GOOD}---\n{text}");
    let res = parse_resources(&all, "policies.yaml").unwrap();
    let (loaded, errors) = load_lenient(&res, LoadOptions::default());
    assert!(
        loaded.rules.iter().any(|r| r.info().id == "good/good"),
        "the good policy still loads"
    );
    assert!(load(&res, LoadOptions::default()).is_err());
    errors.iter().map(ToString::to_string).collect()
}

fn assert_error(text: &str, parts: &[&str]) {
    let errors = errors_of(text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    for p in parts {
        assert!(
            errors[0].contains(p),
            "`{}` does not contain `{p}`",
            errors[0]
        );
    }
}

#[test]
fn cel_syntax_error() {
    let t = vap(
        "syntax",
        "  validations: [{expression: \"object.metadata.name ==\"}]",
    );
    assert_error(
        &t,
        &[
            "policies.yaml:",
            "ValidatingAdmissionPolicy syntax",
            "spec.validations[0].expression",
            "`object.metadata.name ==`",
            "does not compile",
        ],
    );
}

#[test]
fn cel_type_errors() {
    let t = vap(
        "types",
        "  validations: [{expression: \"size(object.spec.containers) + 'x' > 0\"}]",
    );
    assert_error(
        &t,
        &[
            "ValidatingAdmissionPolicy types",
            "'_+_' applied to '(int, string)'",
        ],
    );
    let t = vap("notbool", "  validations: [{expression: \"'yes'\"}]");
    assert_error(&t, &["must evaluate to bool, but its type is string"]);
    let t = vap(
        "msg",
        "  validations: [{expression: \"true\", messageExpression: \"1 + 2\"}]",
    );
    assert_error(
        &t,
        &[
            "spec.validations[0].messageExpression",
            "must evaluate to string",
        ],
    );
    let t = vap(
        "fn",
        "  validations: [{expression: \"object.metadata.name.frobnicate()\"}]",
    );
    assert_error(&t, &["undeclared reference to 'frobnicate'"]);
    let t = vap("var", "  validations: [{expression: \"variables.nope\"}]");
    assert_error(&t, &["undefined variable `variables.nope`"]);
}

#[test]
fn authorizer_is_a_load_error() {
    let t = vap("authz", "  validations: [{expression: \"authorizer.group('').resource('pods').check('create').allowed()\"}]");
    assert_error(
        &t,
        &[
            "ValidatingAdmissionPolicy authz",
            "`authorizer` cannot be offered offline",
        ],
    );
}

#[test]
fn binding_to_a_missing_policy() {
    let t = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: orphan}\nspec: {policyName: nope, validationActions: [Deny]}\n";
    assert_error(
        t,
        &[
            "ValidatingAdmissionPolicyBinding orphan",
            "spec.policyName",
            "no ValidatingAdmissionPolicy named `nope`",
        ],
    );
}

#[test]
fn constraint_naming_a_missing_template() {
    let t = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNothing\nmetadata: {name: c}\nspec: {}\n";
    assert_error(
        t,
        &[
            "policies.yaml:",
            "K8sNothing c",
            "no ConstraintTemplate defines kind `K8sNothing`",
        ],
    );
}

const TEMPLATE: &str = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8sbad}\nspec:\n  crd: {spec: {names: {kind: K8sBad}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n";

#[test]
fn rego_that_does_not_compile() {
    let t = format!("{TEMPLATE}      package k8sbad\n      violation[{{\"msg\": msg}}] {{\n        msg := \n      }}\n");
    assert_error(
        &t,
        &[
            "policies.yaml:",
            "ConstraintTemplate k8sbad",
            "spec.targets[0].rego",
            "Rego does not compile",
        ],
    );
}

/// Loads the policies of `text` with a 50 ms evaluation limit and runs the
/// first rule on a pod: its findings and how long the check took.
fn check_a_pod_with_a_50ms_limit(text: &str) -> (Vec<Finding>, Duration) {
    let res = parse_resources(text, "slow.yaml").unwrap();
    let opts = LoadOptions {
        limit: Duration::from_millis(50),
        ..LoadOptions::default()
    };
    let loaded = load(&res, opts).unwrap();
    let pod = Resource::from_value(
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}),
    )
    .unwrap();
    let inv = Inventory::default();
    let ext = Extensions::default();
    let ctx = Context::new(&inv, &ext, jiff::Timestamp::now());
    let mut findings = Vec::new();
    let rule = &loaded.rules[0];
    let started = std::time::Instant::now();
    rule.check(
        &pod,
        &ctx,
        &mut Emitter::new(
            rule.info(),
            Severity::High,
            Action::Enforce,
            &pod,
            &mut findings,
        ),
    );
    (findings, started.elapsed())
}

#[test]
fn rego_that_runs_too_long_is_an_error_finding_naming_the_policy() {
    let t = format!(
        "{TEMPLATE}      package k8sbad\n      violation[{{\"msg\": \"slow\"}}] {{\n        input.review.object.kind == \"Pod\"\n        count([1 | numbers.range(1, 4000)[_]; numbers.range(1, 4000)[_]]) > 0\n      }}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sBad\nmetadata: {{name: slow}}\nspec: {{}}\n"
    );
    let (findings, elapsed) = check_a_pod_with_a_50ms_limit(&t);
    assert!(elapsed < Duration::from_secs(5));
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0]
            .message
            .contains("policy k8sbad/slow failed to evaluate"),
        "{}",
        findings[0].message
    );
}

#[test]
fn binding_without_params_for_a_policy_with_param_kind() {
    let t = format!(
        "{}---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: b}}\nspec: {{policyName: p, validationActions: [Deny]}}\n",
        vap("p", "  paramKind: {apiVersion: v1, kind: ConfigMap}\n  validations: [{expression: \"params.data.x == 'y'\"}]")
    );
    assert_error(
        &t,
        &[
            "ValidatingAdmissionPolicyBinding b",
            "spec.paramRef",
            "missing: policy p has a paramKind",
        ],
    );
}

#[test]
fn cel_that_runs_too_long_is_an_error_finding_naming_the_policy() {
    // the loops' size comes from the object: nothing to refuse at load
    let n = "size(object.metadata.name) * 4000";
    let t = format!(
        "{}---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: b}}\nspec: {{policyName: slow, validationActions: [Deny]}}\n",
        vap("slow", &format!("  validations: [{{expression: \"lists.range({n}).all(x, lists.range({n}).all(y, x + y >= 0))\"}}]"))
    );
    let (findings, elapsed) = check_a_pod_with_a_50ms_limit(&t);
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(findings.len(), 1);
    let m = &findings[0].message;
    // whichever bound comes first: the cost limit or the time limit
    assert!(
        m.contains("policy slow/b failed to evaluate")
            && (m.contains("exceeded the per-evaluation time limit of 50 ms")
                || m.contains("actual cost limit exceeded")),
        "{m}"
    );
}

#[test]
fn cel_over_the_runtime_cost_limit_stops_with_the_kubernetes_message() {
    let n = "size(object.metadata.name) * 2000";
    let t = format!(
        "{}---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: b}}\nspec: {{policyName: costly, validationActions: [Deny]}}\n",
        vap("costly", &format!("  validations: [{{expression: \"lists.range({n}).all(x, lists.range({n}).all(y, x + y >= 0))\"}}]"))
    );
    let res = parse_resources(&t, "costly.yaml").unwrap();
    let opts = LoadOptions {
        limit: Duration::from_secs(600),
        ..LoadOptions::default()
    };
    let loaded = load(&res, opts).unwrap();
    let pod = Resource::from_value(
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}),
    )
    .unwrap();
    let (inv, ext) = (Inventory::default(), Extensions::default());
    let ctx = Context::new(&inv, &ext, jiff::Timestamp::now());
    let mut findings = Vec::new();
    let rule = &loaded.rules[0];
    let mut out = Emitter::new(
        rule.info(),
        Severity::High,
        Action::Enforce,
        &pod,
        &mut findings,
    );
    rule.check(&pod, &ctx, &mut out);
    assert_eq!(findings.len(), 1);
    let m = &findings[0].message;
    assert!(
        m.contains("policy costly/b failed to evaluate")
            && m.contains("actual cost limit exceeded (more than 1000000 for one expression)"),
        "{m}"
    );
}

#[test]
fn cel_over_the_estimated_cost_is_refused_at_load_naming_policy_and_expression() {
    let t = vap(
        "slow",
        "  validations:\n  - expression: \"object.metadata.name != ''\"\n  - expression: \"lists.range(4000).all(x, lists.range(4000).all(y, x + y >= 0))\"",
    );
    assert_error(
        &t,
        &[
            "ValidatingAdmissionPolicy slow",
            "spec.validations[1].expression",
            "lists.range(4000).all(x, lists.range(4000).all(y, x + y >= 0))",
            "exceeds the per-expression limit of 1000000",
        ],
    );
}

#[test]
fn duplicate_policy_objects_are_errors() {
    let t = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: good}\nspec: {policyName: good, validationActions: [Warn]}\n";
    assert_error(
        t,
        &[
            "policies.yaml:",
            "ValidatingAdmissionPolicyBinding good",
            "duplicate: ValidatingAdmissionPolicyBinding good is already defined at policies.yaml:",
        ],
    );
}

#[test]
fn cel_refused_at_load_as_the_api_server_refuses() {
    for (name, expr, part) in [
        (
            "re2",
            "object.metadata.name.matches('x++')",
            "invalid nested repetition operator",
        ),
        (
            "quantity",
            "isQuantity([1, 2, 3])",
            "found no matching overload for 'isQuantity'",
        ),
        (
            "ipcidr",
            "isIP(cidr('10.0.0.0/8'))",
            "found no matching overload for 'isIP'",
        ),
        (
            "minlist",
            "[[1], [2]].min() == [1]",
            "found no matching overload for 'min'",
        ),
        (
            "sumstr",
            "['a', 'b'].sum() == 'ab'",
            "found no matching overload for 'sum'",
        ),
        (
            "mixed",
            "[1, 'a'].size() == 2",
            "a list literal's elements must have one type",
        ),
        (
            "duration",
            "duration('1x') > duration('1s')",
            "invalid duration literal",
        ),
        (
            "timestamp",
            "timestamp('yesterday') < timestamp('2020-01-01T00:00:00Z')",
            "invalid timestamp literal",
        ),
        ("overflow", "int(1e99) > 0", "constant conversion"),
        (
            "mathabs",
            "math.abs(-1) == 1",
            "undeclared reference to 'math.abs'",
        ),
        (
            "reverse",
            "'abc'.reverse() == 'cba'",
            "found no matching overload for 'reverse'",
        ),
    ] {
        let t = vap(name, &format!("  validations:\n  - expression: \"object.metadata.name != ''\"\n  - expression: \"{expr}\""));
        assert_error(
            &t,
            &[
                &format!("ValidatingAdmissionPolicy {name}"),
                "spec.validations[1].expression",
                expr,
                part,
            ],
        );
    }
}

#[test]
fn cel_environment_follows_the_pinned_kubernetes_version() {
    let t = vap(
        "semver",
        "  validations: [{expression: \"semver('1.2.3').major() == 1\"}]",
    );
    let res = parse_resources(&t, "semver.yaml").unwrap();
    assert!(load(&res, LoadOptions::default()).is_ok());
    let old = LoadOptions {
        kubernetes_version: "1.32".parse().unwrap(),
        ..LoadOptions::default()
    };
    let errors = match load(&res, old) {
        Ok(_) => panic!("semver is declared from Kubernetes 1.33"),
        Err(e) => e
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    };
    assert!(
        errors.contains("undeclared reference to 'semver' (Kubernetes 1.32 declares it from 1.33)"),
        "{errors}"
    );
    let two_var = vap(
        "twovar",
        "  validations: [{expression: \"{'a': 1}.all(k, v, v > 0)\"}]",
    );
    let res = parse_resources(&two_var, "twovar.yaml").unwrap();
    assert!(load(&res, LoadOptions::default()).is_ok());
    let v131 = LoadOptions {
        kubernetes_version: "1.31".parse().unwrap(),
        ..LoadOptions::default()
    };
    assert!(load(&res, v131).is_err());
}

#[test]
fn one_validation_that_errors_does_not_hide_the_others() {
    let t = format!(
        "{}---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: b}}\nspec: {{policyName: three, validationActions: [Deny]}}\n",
        vap(
            "three",
            "  validations:\n  - expression: \"object.metadata.name == 'q'\"\n    message: first fails\n  - expression: \"object.metadata.missing == 'x'\"\n  - expression: \"object.metadata.name.size() > 5\"\n    message: third fails"
        )
    );
    let res = parse_resources(&t, "three.yaml").unwrap();
    let loaded = load(&res, LoadOptions::default()).unwrap();
    let pod = Resource::from_value(
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}),
    )
    .unwrap();
    let (inv, ext) = (Inventory::default(), Extensions::default());
    let ctx = Context::new(&inv, &ext, jiff::Timestamp::now());
    let mut findings = Vec::new();
    let rule = &loaded.rules[0];
    let mut out = Emitter::new(
        rule.info(),
        Severity::High,
        Action::Enforce,
        &pod,
        &mut findings,
    );
    rule.check(&pod, &ctx, &mut out);
    let msgs: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert_eq!(msgs[0], "first fails");
    assert!(
        msgs[1].contains("policy three/b failed to evaluate")
            && msgs[1].contains("object.metadata.missing"),
        "{msgs:?}"
    );
    assert_eq!(msgs[2], "third fails");
}
