//! Referential Gatekeeper policies see the other objects of the input as
//! `data.inventory`, through a PolicySet like any front door uses.

use palisade_core::{Config, Inventory, PolicySet};
use palisade_policy::files::{parse_resources, read_resources};
use palisade_policy::{load, LoadOptions};
use std::path::PathBuf;
use std::sync::Arc;

fn library(rel: &str) -> PathBuf {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata"));
    root.join("gatekeeper-library/library").join(rel)
}

const INGRESSES: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: a, namespace: shop}
spec: {rules: [{host: shop.example.com}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: b, namespace: other}
spec: {rules: [{host: shop.example.com}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: c, namespace: shop}
spec: {rules: [{host: unique.example.com}]}
"#;

#[test]
fn unique_ingress_host_sees_the_other_objects() {
    let mut policies = read_resources(&library("general/uniqueingresshost/template.yaml")).unwrap();
    policies.extend(
        read_resources(&library(
            "general/uniqueingresshost/samples/unique-ingress-host/constraint.yaml",
        ))
        .unwrap(),
    );
    let loaded = load(&policies, LoadOptions::default()).unwrap();
    assert_eq!(
        loaded.providers.len(),
        1,
        "data.inventory is provided once per evaluation"
    );
    let mut b = PolicySet::builder(Config::default()).rules(loaded.rules);
    for p in loaded.providers {
        b = b.provider(p);
    }
    let set = b.build().unwrap();
    let objects = parse_resources(INGRESSES, "ingresses.yaml").unwrap();
    let inv = Inventory::new(objects.into_iter().map(Arc::new).collect());
    let evals = set.evaluate_inventory(&inv, jiff::Timestamp::now());
    let counts: Vec<usize> = evals.iter().map(|e| e.findings.len()).collect();
    assert_eq!(counts, vec![1, 1, 0]);
    let f = &evals[0].findings[0];
    assert_eq!(
        f.message,
        "ingress host conflicts with an existing ingress <shop.example.com>"
    );
    assert_eq!(&*f.rule, "k8suniqueingresshost/unique-ingress-host");
    let loc = f.location.as_ref().unwrap();
    assert_eq!((&*loc.file, loc.line), ("ingresses.yaml", 2));
}
