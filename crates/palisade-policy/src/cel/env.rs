//! The CEL environment Kubernetes offers: the standard library with optional
//! values, the strings, lists and math extensions, and Kubernetes' own
//! libraries ([`super::lib`]). Built once per process.

use cel::Env;
use std::sync::{Arc, OnceLock};

static ENV: OnceLock<Result<Arc<Env>, String>> = OnceLock::new();

fn build() -> Result<Env, cel::DeclarationError> {
    let mut env = Env::stdlib().with_optional_support(true);
    env.add_extension(cel::extensions::strings)?;
    env.add_extension(cel::extensions::lists)?;
    env.add_extension(cel::extensions::math)?;
    super::lib::register(&mut env)?;
    super::budget::register(&mut env)?;
    Ok(env)
}

/// The shared environment (an error only if a library fails to register).
pub fn env() -> Result<Arc<Env>, String> {
    ENV.get_or_init(|| {
        build()
            .map(Arc::new)
            .map_err(|e| format!("CEL environment: {e}"))
    })
    .clone()
}
