//! Source files and positions. Every diagnostic points into a `SourceFile`, so the
//! loader keeps the text and a line index and hands out byte-free `Pos`/`Span` values
//! (1-based line, 1-based column in characters) that render the way editors count.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A position in a source file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A range in one source file. `file` indexes `Sources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: u32,
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn point(file: u32, line: u32, col: u32) -> Span {
        let p = Pos { line, col };
        Span { file, start: p, end: p }
    }
}

/// One loaded file: its display path and text.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: u32) -> Option<&str> {
        self.text.split('\n').nth(line.checked_sub(1)? as usize).map(|l| l.strip_suffix('\r').unwrap_or(l))
    }

    /// The folder relative paths in this file are resolved against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// All files one compilation read, so spans stay small (`u32` file index).
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<Arc<SourceFile>>,
}

impl Sources {
    pub fn add(&mut self, path: PathBuf, text: String) -> u32 {
        self.files.push(Arc::new(SourceFile { path, text }));
        (self.files.len() - 1) as u32
    }

    pub fn get(&self, file: u32) -> Option<&SourceFile> {
        self.files.get(file as usize).map(|f| f.as_ref())
    }
}
