//! aibc: compile short image specs into Azure Image Builder infrastructure.
//!
//! The pipeline, one stage per module, each reading only the one before it:
//! `loader` (text → spanned `node` tree) → `validate` (tree → typed `spec`, structural
//! diagnostics) → `check` (semantic rules) → `plan` (typed resources) → `emit` (Bicep or
//! ARM JSON).

pub mod artifact;
pub mod azcli;
pub mod azure;
pub mod check;
pub mod cli_extra;
pub mod commands;
pub mod compiler;
pub mod deploy;
pub mod diagnostic;
pub mod docs;
pub mod document;
pub mod emit;
pub mod exit;
pub mod format;
pub mod fsguard;
pub mod github;
pub mod hbs;
pub mod import;
pub mod library;
pub mod loader;
pub mod node;
pub mod output;
pub mod params;
pub mod plan;
pub mod redact;
pub mod regions;
pub mod sarif;
pub mod schema;
pub mod schema_editor;
pub mod source;
pub mod spec;
pub mod track;
pub mod validate;
pub mod version;

// A compile is many small, short-lived allocations (parsed nodes, diagnostics, rendered text);
// malloc/free were a quarter of its profile under glibc. See docs/adr/0010-allocator.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
