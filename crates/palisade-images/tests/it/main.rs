//! palisade-images' integration tests: real cosign fixtures offline, and a
//! real registry (Debian's docker-registry) for fetching, signing and
//! verifying.

mod content;
mod content_hostile;
mod bundles;
mod conformance;
mod fixtures;
mod hostile;
mod interop;
mod keyless;
mod keys;
mod live;
mod registry_server;
mod support;
mod test_images;
