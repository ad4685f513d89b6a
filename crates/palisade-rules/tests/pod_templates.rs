//! Pod templates inside custom resources on real input: the JobSets and
//! MPIJobs of the real-world corpus (`testdata/real-world`) that run with
//! the node's network, process and IPC namespaces or privileged containers
//! are reported at the line of the field inside the custom resource, by the
//! workload rule and the Pod Security check together.

use palisade_core::yaml::parse_stream;
use palisade_core::{Config, Context, Extensions, Finding, Inventory, PolicySet, Resource};
use palisade_rules::{profile, ProfileOptions};
use std::path::Path;
use std::sync::Arc;

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/real-world/kubernetes-engine-samples"
);

/// The findings of the default profile on the objects of one file.
fn findings(rel: &str) -> (Vec<Resource>, Vec<Finding>) {
    let path = Path::new(SAMPLES).join(rel);
    let text = std::fs::read_to_string(&path).expect("corpus file");
    let name: Arc<str> = Arc::from(rel);
    let objects: Vec<Resource> = parse_stream(&text)
        .into_iter()
        .map(|d| d.expect("parses"))
        .flat_map(|d| Resource::from_document(d, &name))
        .collect();
    let set = PolicySet::builder(Config::default())
        .rules(profile("default", &ProfileOptions::default()).expect("profile"))
        .build()
        .expect("policy set");
    let (inv, ext) = (Inventory::default(), Extensions::default());
    let ctx = Context::new(&inv, &ext, jiff::Timestamp::UNIX_EPOCH);
    let found = objects
        .iter()
        .flat_map(|r| set.evaluate(r, &ctx).findings)
        .collect();
    (objects, found)
}

/// Asserts a finding of `rule` (merged with `pss`) at `line` whose path ends
/// in `field` and starts with `template`.
fn assert_reported(all: &[Finding], rule: &str, pss: &str, line: u32, template: &str, field: &str) {
    let hit = all
        .iter()
        .find(|f| f.has_rule(rule) && f.location.as_ref().is_some_and(|l| l.line == line));
    let Some(f) = hit else {
        let seen: Vec<String> = all
            .iter()
            .map(|f| format!("{} {} {}", f.rule, f.where_(), f.path))
            .collect();
        panic!("no {rule} at line {line}; reported:\n{}", seen.join("\n"));
    };
    assert!(f.has_rule(pss), "{rule} merged with {pss}: {f:?}");
    assert!(
        f.path.starts_with(template) && f.path.ends_with(field),
        "{rule}: path {} not under {template} ending in {field}",
        f.path
    );
}

#[test]
fn jobsets_in_the_corpus_are_reported() {
    let t = "spec.replicatedJobs[0].template.spec.template.spec";
    for (file, net, privileged) in [
        (
            "ai-ml/llm-multihost-tpus-saxml/sax-model-server-set.yaml",
            36,
            49,
        ),
        (
            "ai-ml/gke-tpu-dynamic-slicing/tpu-multislice-jax.yaml",
            39,
            50,
        ),
    ] {
        let (objects, all) = findings(file);
        assert!(objects.iter().any(|r| r.id.kind == "JobSet"), "{file}");
        assert_reported(
            &all,
            "host-network",
            "pss-host-namespaces",
            net,
            t,
            "hostNetwork",
        );
        assert_reported(
            &all,
            "privileged-container",
            "pss-privileged",
            privileged,
            t,
            "securityContext.privileged",
        );
    }
}

#[test]
fn mpijobs_in_the_corpus_are_reported() {
    for (file, pid, launcher, worker) in [
        ("hpc/mpi/hpl-demo.tpl.yaml", 31, 53, 121),
        ("hpc/mpi/hpl-demo-pv.tpl.yaml", 31, 58, 131),
        ("hpc/mpi/hpl-demo-pv-custom-hpl-dat.tpl.yaml", 30, 57, 136),
    ] {
        let (objects, all) = findings(file);
        assert!(objects.iter().any(|r| r.id.kind == "MPIJob"), "{file}");
        let l = "spec.mpiReplicaSpecs.Launcher.template.spec";
        let w = "spec.mpiReplicaSpecs.Worker.template.spec";
        assert_reported(&all, "host-pid", "pss-host-namespaces", pid, l, "hostPID");
        assert_reported(
            &all,
            "host-ipc",
            "pss-host-namespaces",
            pid + 1,
            l,
            "hostIPC",
        );
        let p = "securityContext.privileged";
        assert_reported(
            &all,
            "privileged-container",
            "pss-privileged",
            launcher,
            l,
            p,
        );
        assert_reported(&all, "privileged-container", "pss-privileged", worker, w, p);
    }
}
