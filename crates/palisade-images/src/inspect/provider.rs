//! Inspection for the front doors: a [`ContentInspector`] inspects the
//! images of an inventory (results cached by digest) and its
//! [`ContentProvider`] hands the results to the image content rules as
//! [`ImageContents`].

use super::{inspect, ImageSource, InspectCache, InspectOptions};
use crate::provider::images_of;
use crate::registry::Registry;
use palisade_core::image_content::{ImageContent, ImageContents};
use palisade_core::workload::POD_KINDS;
use palisade_core::{ContextProvider, Extensions, Inventory, Scope};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Inspects images and keeps the latest result per reference.
pub struct ContentInspector {
    registry: Registry,
    opts: InspectOptions,
    cache: InspectCache,
    results: Mutex<HashMap<String, Result<ImageContent, String>>>,
}

impl ContentInspector {
    /// An inspector over `registry` with `cache`.
    pub fn new(registry: Registry, opts: InspectOptions, cache: InspectCache) -> Self {
        ContentInspector {
            registry,
            opts,
            cache,
            results: Mutex::new(HashMap::new()),
        }
    }

    /// Inspects each reference (one at a time: a layer stream already
    /// uses a core), keeping each result or error.
    pub async fn inspect_all(&self, images: &[String]) {
        for image in images {
            let result = match ImageSource::parse(image) {
                Ok(src @ ImageSource::Registry(_)) => {
                    inspect(&src, image, &self.registry, &self.opts, Some(&self.cache))
                        .await
                        .map_err(|e| e.to_string())
                }
                Ok(_) => Err("not a registry reference".to_string()),
                Err(e) => Err(e.to_string()),
            };
            self.results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(image.clone(), result);
        }
    }

    /// Every result so far.
    pub fn results(&self) -> HashMap<String, Result<ImageContent, String>> {
        self.results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Puts the inspector's results for the inventory's images into the
/// extensions.
pub struct ContentProvider {
    inspector: Arc<ContentInspector>,
}

impl ContentProvider {
    /// A provider reading `inspector`'s results.
    pub fn new(inspector: Arc<ContentInspector>) -> Self {
        ContentProvider { inspector }
    }
}

impl ContextProvider for ContentProvider {
    fn provide(&self, inventory: &Inventory, ext: &mut Extensions) {
        let all = self.inspector.results();
        let mut contents = ImageContents::default();
        for res in inventory.iter() {
            for image in images_of(res) {
                if let Some(r) = all.get(&image) {
                    contents.images.insert(image, r.clone());
                }
            }
        }
        ext.insert(contents);
    }

    fn reads(&self) -> Scope {
        Scope::kinds(&POD_KINDS)
    }
}
