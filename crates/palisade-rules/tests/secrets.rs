//! Regression: a credential found in an object never appears in a finding's
//! message, remediation or serialized JSON (reported or suppressed), whatever
//! rule reports it and however the value got into the object.

mod harness;

use harness::{run, Case};
use serde_json::json;

/// The secret parts of the values below; none may be printed.
const SECRETS: [&str; 10] = [
    "Tr0ub4dor&3-horse-battery",
    "AKIAQWERTYUIOPASDFGH",
    "ghp_Zyxwvutsrqponmlkjihgfedcba9876543210",
    "MIIEowIBAAKCAQEAsecretkeymaterial",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2VjcmV0LXNpZ25hdHVyZQ",
    "pg-pass-8a7sd6",
    "xoxp-998877665544-secretslacktoken",
    "918273645012",
    "stringdata-value-77aa",
    "c2VjcmV0LWJhc2U2NC12YWx1ZQ==",
];

const INPUT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: leaky, namespace: default}
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:latest
        env:
        - {name: DB_PASSWORD, value: "Tr0ub4dor&3-horse-battery"}
        - {name: CONFIG_A, value: "AKIAQWERTYUIOPASDFGH"}
        - {name: CONFIG_B, value: "ghp_Zyxwvutsrqponmlkjihgfedcba9876543210"}
        - name: TLS_KEY
          value: |
            -----BEGIN RSA PRIVATE KEY-----
            MIIEowIBAAKCAQEAsecretkeymaterial
            -----END RSA PRIVATE KEY-----
        - {name: SESSION, value: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2VjcmV0LXNpZ25hdHVyZQ"}
        - {name: DATABASE_URL, value: "postgres://app:pg-pass-8a7sd6@db:5432/app"}
      initContainers:
      - name: init
        image: init:1
        env:
        - {name: SLACK, value: "xoxp-998877665544-secretslacktoken"}
        - {name: ADMIN_PIN_SECRET, value: 918273645012}
---
apiVersion: v1
kind: Pod
metadata:
  name: quiet
  annotations: {palisade.io/ignore: "secret-in-env"}
spec:
  containers:
  - name: app
    image: app:1
    env:
    - {name: API_TOKEN, value: "Tr0ub4dor&3-horse-battery"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: default}
stringData: {password: stringdata-value-77aa}
data: {token: c2VjcmV0LWJhc2U2NC12YWx1ZQ==}
"#;

#[test]
fn secret_values_never_appear_in_findings() {
    let case: Case = serde_json::from_value(json!({
        "description": "secrets",
        "rules": ["secret-in-env"],
        "input": INPUT,
        "expect": [],
    }))
    .expect("valid case");
    let outcome = run(&case).expect("case runs");
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors.first());
    let reported: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| &*f.rule == "secret-in-env")
        .collect();
    assert_eq!(
        reported.len(),
        8,
        "every planted credential is found: {reported:#?}"
    );
    let suppressed: Vec<_> = outcome
        .suppressed
        .iter()
        .filter(|s| &*s.finding.rule == "secret-in-env")
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert!(
        outcome.findings.len() > reported.len(),
        "other rules ran on the same objects too"
    );

    let mut texts = Vec::new();
    for f in &outcome.findings {
        texts.push(f.message.clone());
        texts.push(f.remediation.to_string());
        texts.push(serde_json::to_string(f).expect("serializes"));
        texts.push(format!("{f:?}"));
    }
    for s in &outcome.suppressed {
        texts.push(serde_json::to_string(s).expect("serializes"));
    }
    for text in &texts {
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "secret {secret:?} printed in: {text}"
            );
            // not even a recognisable part of it
            let head: String = secret.chars().take(10).collect();
            assert!(
                !text.contains(&head),
                "part of secret {secret:?} printed in: {text}"
            );
        }
    }
    for f in &reported {
        assert!(f.message.contains("<redacted, "), "{}", f.message);
    }
}

#[test]
fn configmap_values_never_appear_in_findings() {
    let input = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: leaky, namespace: default}
data:
  DB_PASSWORD: "Tr0ub4dor&3-horse-battery"
  aws: AKIAQWERTYUIOPASDFGH
  app.properties: |
    db.url=postgres://app:pg-pass-8a7sd6@db:5432/app
    slack.token=xoxp-998877665544-secretslacktoken
"#;
    let case: Case = serde_json::from_value(json!({
        "description": "configmap secrets",
        "rules": ["secret-in-configmap"],
        "input": input,
        "expect": [],
    }))
    .expect("valid case");
    let outcome = run(&case).expect("case runs");
    let reported: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| &*f.rule == "secret-in-configmap")
        .collect();
    assert_eq!(reported.len(), 3, "{reported:#?}");
    for f in &outcome.findings {
        let texts = [
            f.message.clone(),
            serde_json::to_string(f).expect("serializes"),
            format!("{f:?}"),
        ];
        for text in &texts {
            for secret in SECRETS {
                let head: String = secret.chars().take(10).collect();
                assert!(
                    !text.contains(&head),
                    "part of secret {secret:?} printed in: {text}"
                );
            }
        }
    }
}
