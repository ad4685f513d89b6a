//! `palisade rbac`: who can do what, through which binding and role; the
//! RBAC findings with a per-group summary; expired bindings to delete.

mod can;
mod load;
mod prune;
mod report;
mod who_can;

use std::process::ExitCode;

/// Arguments of `palisade rbac`.
#[derive(clap::Args, Debug)]
pub struct RbacArgs {
    #[command(subcommand)]
    command: RbacCommand,
}

#[derive(clap::Subcommand, Debug)]
enum RbacCommand {
    /// Every subject that can VERB RESOURCE, with the binding and role that grant it.
    WhoCan(who_can::WhoCanArgs),
    /// What a subject (user:NAME, group:NAME, sa:NAMESPACE/NAME) can do.
    Can(can::CanArgs),
    /// The RBAC findings in any output format of `scan`, and what each group can do.
    Report(report::ReportArgs),
    /// Expired bindings (palisade.io/expires-at in the past) as `kubectl delete` commands.
    PruneExpired(prune::PruneArgs),
}

/// Runs a `palisade rbac` subcommand.
pub fn run(args: &RbacArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        RbacCommand::WhoCan(a) => who_can::run(a),
        RbacCommand::Can(a) => can::run(a),
        RbacCommand::Report(a) => report::run(a),
        RbacCommand::PruneExpired(a) => prune::run(a),
    }
}
