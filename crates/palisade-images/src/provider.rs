//! The [`ContextProvider`] that hands verification results to the rules:
//! the verdicts the front door just computed (see
//! [`Verifier::verify_all`]) for the images of the inventory's pods.

use crate::verify::Verifier;
use palisade_core::images::{ImageVerdict, ImageVerdicts};
use palisade_core::workload::{PodSpec, POD_KINDS};
use palisade_core::{ContextProvider, Extensions, Field, Inventory, Resource, Scope};
use serde_json::Value;
use std::sync::Arc;

/// Puts [`ImageVerdicts`] into the extensions.
pub struct ImageProvider {
    verifier: Arc<Verifier>,
}

impl ImageProvider {
    /// A provider reading `verifier`'s recent verdicts.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        ImageProvider { verifier }
    }
}

/// Every image reference of every container list of `res`.
pub fn images_of(res: &Resource) -> Vec<String> {
    let Some(pod) = PodSpec::of(res) else {
        return Vec::new();
    };
    pod.containers()
        .iter()
        .filter_map(|c| match c.value.field("image") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            _ => None,
        })
        .collect()
}

impl ContextProvider for ImageProvider {
    fn provide(&self, inventory: &Inventory, ext: &mut Extensions) {
        let mut verdicts = ImageVerdicts::default();
        for res in inventory.iter() {
            for image in images_of(res) {
                if verdicts.images.contains_key(&image) {
                    continue;
                }
                let v = self
                    .verifier
                    .recent(&image)
                    .unwrap_or_else(|| ImageVerdict {
                        image: image.clone(),
                        digest: None,
                        policies: Vec::new(),
                        error: Some(
                            "not verified: no fresh verification result for this image".into(),
                        ),
                        unmatched_denied: false,
                    });
                verdicts.images.insert(image, v);
            }
        }
        ext.insert(verdicts);
    }

    fn reads(&self) -> Scope {
        Scope::kinds(&POD_KINDS)
    }
}
