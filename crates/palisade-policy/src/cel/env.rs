//! The CEL environment Kubernetes offers: the standard library with optional
//! values, cel-go's strings, lists, sets and two-variable comprehension
//! extensions, and Kubernetes' own libraries ([`super::lib`]). Built once
//! per process; which functions a policy may call, per Kubernetes version,
//! is decided by the load-time check ([`super::check`]).

use cel::Env;
use std::sync::{Arc, OnceLock};

static ENV: OnceLock<Result<Arc<Env>, String>> = OnceLock::new();

fn build() -> Result<Env, cel::DeclarationError> {
    let mut env = Env::stdlib().with_optional_support(true);
    env.add_extension(cel::extensions::strings)?;
    env.add_extension(cel::extensions::lists)?;
    super::lib::register(&mut env)?;
    super::comprehensions::register(&mut env)?;
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
