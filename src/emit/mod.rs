//! Emitters: print a plan as Bicep or as ARM JSON. They read the plan only.

pub mod arm;
pub mod bicep;

/// One generated file: a path relative to the output folder, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub text: String,
}

pub const GENERATOR: &str = concat!("aibc ", env!("CARGO_PKG_VERSION"));
