//! `deskprov man DIR` (hidden): the man pages of the Debian package, from the same clap command
//! as `--help`, so the two cannot drift apart.

use std::path::Path;

use clap::CommandFactory;

use super::Failure;
use super::args::Cli;

/// deskprov.1 and a page for each subcommand (deskprov-devices-add.1, ...).
pub fn write_pages(dir: &Path) -> Result<(), Failure> {
    let mut command = described(Cli::command(), "deskprov").disable_help_subcommand(true);
    // Building names the subcommands as their pages are named: deskprov-devices-add.
    command.build();
    write_page_and_below(command, dir)
        .map_err(|e| Failure::Message(format!("man pages in {}: {e}", dir.display())))
}

/// The command's page, then its subcommands' (a hidden one has none). Every page's footer names
/// deskprov's version; clap_mangen's default would name the subcommand's without one.
fn write_page_and_below(command: clap::Command, dir: &Path) -> std::io::Result<()> {
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        write_page_and_below(sub.clone(), dir)?;
    }
    let source = format!("deskprov {}", env!("CARGO_PKG_VERSION"));
    clap_mangen::Man::new(command)
        .source(source)
        .generate_to(dir)?;
    Ok(())
}

/// A page's NAME line needs a description (whatis, lintian's bad-whatis-entry): a command
/// without a doc comment is described by its command line, `deskprov users list`.
fn described(command: clap::Command, line: &str) -> clap::Command {
    let command = match command.get_about() {
        Some(_) => command,
        None => command.about(line.to_owned()),
    };
    command.mut_subcommands(|sub| {
        let sub_line = format!("{line} {}", sub.get_name());
        described(sub, &sub_line)
    })
}
