//! palisade-images' integration tests: real cosign fixtures offline, and a
//! real registry (Debian's docker-registry) for fetching, signing and
//! verifying.

mod bundles;
mod conformance;
mod content;
mod content_hostile;
mod fixtures;
mod hostile;
mod interop;
mod keyless;
mod keyless_sig;
mod keys;
mod live;
mod registry_server;
mod support;
mod test_images;
