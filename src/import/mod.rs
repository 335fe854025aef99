//! `aibc import`: Packer templates (JSON and HCL2) and existing AIB ARM templates into
//! specs. (Being implemented; see issue 6.)

use std::path::PathBuf;

/// What to import from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A Packer template: a `.json` file, a `.pkr.hcl` file, or a folder of them.
    Packer,
    /// An ARM template, a bare imageTemplates resource object, or an API request body.
    Arm,
}

#[derive(Debug, Clone)]
pub struct Args {
    pub kind: Kind,
    pub path: PathBuf,
    /// Where to write the spec; standard output when absent.
    pub out: Option<PathBuf>,
    /// Compile the imported spec and compare its image template with the original.
    pub check: bool,
}

/// Runs `aibc import`; returns the process exit code.
pub fn run(args: &Args) -> i32 {
    eprintln!("error: `aibc import {:?}` is not available yet ({})", args.kind, args.path.display());
    crate::exit::FAILURE
}
