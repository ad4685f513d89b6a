//! `image-not-minimal`, `image-runs-as-root` and `image-stale`: what the
//! image content inspection (palisade-images) found inside each
//! container's image, read from the context's [`ImageContents`], with the
//! `imageContent:` settings (age limit, allowed paths, rules skipped per
//! image glob). Without inspection results (an offline scan) these rules
//! report nothing.

use crate::workload::builtin::{BuiltinRule, Texts};
use crate::workload::fields::label;
use palisade_core::image_content::{ImageContent, ImageContentSettings, ImageContents};
use palisade_core::workload::{with_pod_spec, Container, PodSpec};
use palisade_core::{
    Config, ConfigError, Context, ContextProvider, Emitter, Extensions, Field, FieldPath,
    Inventory, Resource, Rule, Scope, Severity,
};
use serde_json::Value;
use std::sync::Arc;

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![
        BuiltinRule::workload(
            Texts {
                id: "image-not-minimal",
                severity: Severity::Medium,
                title: "Container image holds a shell or a package manager",
                description: "Assume you will be owned: an attacker inside a container with no \
                    shell and no package manager (a distroless image) has nothing to explore \
                    with and nothing to install tools with.",
                remediation: "Build from a distroless or scratch base, copying in only the \
                    application; allow a debug image's paths with `imageContent.allowPaths`.",
            },
            check_minimal,
        ),
        BuiltinRule::workload(
            Texts {
                id: "image-runs-as-root",
                severity: Severity::Medium,
                title: "Container image runs as root and the pod does not override it",
                description: "The image's configured user is root (empty, `0` or `root`) and \
                    neither the container nor the pod sets a non-root `runAsUser`.",
                remediation: "Set `USER 65532` (or another non-root uid) in the image, or \
                    `securityContext.runAsUser` to a non-zero uid.",
            },
            check_root,
        ),
        BuiltinRule::workload(
            Texts {
                id: "image-stale",
                severity: Severity::Low,
                title: "Container image was built too long ago (or its age is unknown)",
                description: "An image that is not rebuilt does not get its dependencies' \
                    fixes. Images older than `imageContent.maxImageAgeDays` (default 90), or \
                    with no creation date or the reproducible-build epoch (1970), are reported.",
                remediation: "Rebuild and redeploy images regularly (a scheduled pipeline), \
                    and record the build date in the image config.",
            },
            check_stale,
        ),
    ]
}

/// Reads the `imageContent:` section; errors name the file, line and key.
pub fn settings_from_config(config: &Config) -> Result<Settings, ConfigError> {
    let spec: ImageContentSettings = config.section("imageContent")?.unwrap_or_default();
    let mut skips = Vec::new();
    for (i, s) in spec.skip.iter().enumerate() {
        let mut b = globset::GlobSetBuilder::new();
        for (j, g) in s.images.iter().enumerate() {
            let glob = globset::GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .map_err(|e| {
                    let at = FieldPath::root().key("imageContent").key("skip").index(i);
                    config.error_at(&at.key("images").index(j), format!("bad glob: {e}"))
                })?;
            b.add(glob);
        }
        let set = b
            .build()
            .map_err(|e| config.error_at(&FieldPath::root().key("imageContent"), e.to_string()))?;
        skips.push((set, s.rules.clone()));
    }
    Ok(Settings {
        spec: Arc::new(spec),
        skips: Arc::new(skips),
    })
}

/// The compiled settings, put in the extensions by [`SettingsProvider`].
#[derive(Clone, Default)]
pub struct Settings {
    spec: Arc<ImageContentSettings>,
    skips: Arc<Vec<(globset::GlobSet, Vec<String>)>>,
}

impl Settings {
    fn skipped(&self, rule: &str, image: &str) -> bool {
        self.skips
            .iter()
            .any(|(g, rules)| rules.iter().any(|r| r == rule) && g.is_match(image))
    }
}

/// Hands the settings to the rules.
pub struct SettingsProvider(pub Settings);

impl ContextProvider for SettingsProvider {
    fn provide(&self, _inventory: &Inventory, ext: &mut Extensions) {
        ext.insert(self.0.clone());
    }
    fn reads(&self) -> Scope {
        Scope::none()
    }
}

/// Calls `f` for each container whose image has inspection results.
fn each_image(
    rule: &str,
    res: &Resource,
    ctx: &Context<'_>,
    out: &mut Emitter<'_>,
    f: impl Fn(&Container<'_>, &PodSpec<'_>, &ImageContent, &Settings, &mut Emitter<'_>),
) {
    let Some(contents) = ctx.extensions.get::<ImageContents>() else {
        return;
    };
    let default = Settings::default();
    let settings = ctx.extensions.get::<Settings>().unwrap_or(&default);
    with_pod_spec(res, ctx, |pod| {
        for c in pod.containers() {
            let Some(Value::String(image)) = c.value.field("image") else {
                continue;
            };
            if settings.skipped(rule, image) {
                continue;
            }
            if let Some(Ok(content)) = contents.images.get(image) {
                f(c, pod, content, settings, out);
            }
        }
    });
}

fn check_minimal(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    each_image(
        "image-not-minimal",
        res,
        ctx,
        out,
        |c, _, content, s, out| {
            let allowed = |p: &&String| !s.spec.allow_paths.iter().any(|a| a == *p);
            let shells: Vec<&String> = content.shells.iter().filter(allowed).collect();
            let pms: Vec<&String> = content.package_managers.iter().filter(allowed).collect();
            if shells.is_empty() && pms.is_empty() {
                return;
            }
            let mut parts = Vec::new();
            if !shells.is_empty() {
                parts.push(format!("shells {}", join(&shells)));
            }
            if !pms.is_empty() {
                parts.push(format!("package managers {}", join(&pms)));
            }
            out.emit(
                &c.path.key("image"),
                format!(
                    "{} image {:?} ({}) is not minimal: {}",
                    label(c),
                    content.image,
                    content.digest,
                    parts.join("; ")
                ),
            );
        },
    );
}

fn join(paths: &[&String]) -> String {
    const SHOWN: usize = 8;
    let mut s = paths
        .iter()
        .take(SHOWN)
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        s.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    s
}

/// `runAsUser` of the container, else of the pod.
fn run_as_user(c: &Container<'_>, pod: &PodSpec<'_>) -> Option<i64> {
    let of = |v: Option<&Value>| v.and_then(|sc| sc.get("runAsUser")).and_then(Value::as_i64);
    of(c.value.get("securityContext")).or_else(|| of(pod.get("securityContext")))
}

fn check_root(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    each_image(
        "image-runs-as-root",
        res,
        ctx,
        out,
        |c, pod, content, _, out| {
            if !content.runs_as_root || run_as_user(c, pod).is_some_and(|u| u != 0) {
                return;
            }
            out.emit(
                &c.path.key("image"),
                format!(
                    "{} image {:?} runs as root (image user {:?}) and no non-root runAsUser is set",
                    label(c),
                    content.image,
                    content.user
                ),
            );
        },
    );
}

fn check_stale(res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    each_image("image-stale", res, ctx, out, |c, _, content, s, out| {
        let who = label(c);
        let created = content
            .created
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        let path = c.path.key("image");
        let Some(at) = created.filter(|t| t.as_second() >= 365 * 86_400) else {
            let shown = content.created.as_deref().unwrap_or("none");
            out.emit(
                &path,
                format!(
                    "{who} image {:?} has an unknown age (creation date: {shown})",
                    content.image
                ),
            );
            return;
        };
        let days = (ctx.now.as_second() - at.as_second()) / 86_400;
        if days > i64::from(s.spec.max_image_age_days) {
            out.emit(
                &path,
                format!(
                    "{who} image {:?} was built {days} days ago ({at}), more than {}",
                    content.image, s.spec.max_image_age_days
                ),
            );
        }
    });
}
