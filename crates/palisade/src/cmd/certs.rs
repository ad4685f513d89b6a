//! `palisade certs`: a CA and a serving certificate for the webhook.

use anyhow::Context as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `palisade certs`.
#[derive(clap::Args, Debug)]
pub struct CertsArgs {
    /// The webhook's Service name.
    #[arg(long, default_value = "palisade")]
    service: String,
    /// The webhook's namespace.
    #[arg(long, default_value = "palisade-system")]
    namespace: String,
    /// Extra DNS names or IP addresses for the serving certificate.
    #[arg(long = "san", value_name = "NAME|IP")]
    sans: Vec<String>,
    /// Validity in days.
    #[arg(long, default_value = "365")]
    days: i64,
    /// Directory to write ca.crt, ca.key, tls.crt and tls.key to.
    #[arg(long, default_value = ".", value_name = "DIR")]
    out_dir: PathBuf,
}

/// Writes the CA and serving certificate.
pub fn run(args: &CertsArgs) -> anyhow::Result<ExitCode> {
    let mut names = palisade_webhook::certs::service_names(&args.service, &args.namespace);
    names.extend(args.sans.iter().cloned());
    let g = palisade_webhook::certs::generate(&args.service, &names, args.days)?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    for (name, text, secret) in [
        ("ca.crt", &g.ca_cert, false),
        ("ca.key", &g.ca_key, true),
        ("tls.crt", &g.cert, false),
        ("tls.key", &g.key, true),
    ] {
        let path = args.out_dir.join(name);
        write(&path, text, secret).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "wrote ca.crt, ca.key, tls.crt, tls.key to {} (serving certificate for {})",
        args.out_dir.display(),
        names.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

fn write(path: &std::path::Path, text: &str, secret: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mode = if secret { 0o600 } else { 0o644 };
        use std::os::unix::fs::PermissionsExt as _;
        // `mode` applies only to a file this call creates; an existing file
        // keeps its mode, so it is set before any secret is written.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(path)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(text.as_bytes())
    }
    #[cfg(not(unix))]
    {
        let _ = secret;
        std::fs::write(path, text)
    }
}
