//! A Packer template as both syntaxes (JSON and HCL2) read into the same shape: the
//! azure-arm source to build, and the provisioners, with every value evaluated and
//! located.

use super::super::value::Val;
use crate::source::Span;

/// A setting: `key = value` (HCL attribute or nested block, JSON member).
#[derive(Debug, Clone)]
pub struct Attr {
    pub key: String,
    pub key_span: Span,
    pub value: Val,
}

/// A builder (JSON) or source (HCL2), or a provisioner: its type and settings.
#[derive(Debug, Clone)]
pub struct Block {
    /// `azure-arm`, `powershell`, …
    pub kind: String,
    /// Where the type is written (the `"type"` value, or the block's label).
    pub kind_span: Span,
    /// The builder's name (JSON `name`, or the HCL source's label).
    pub name: String,
    pub attrs: Vec<Attr>,
}

impl Block {
    /// The last setting of `key` (a later one overrides, as in Packer).
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.attrs.iter().rev().find(|a| a.key == key).map(|a| &a.value)
    }

    /// Every setting of `key`, for repeatable blocks (`azure_tag`, `target_region`).
    pub fn all(&self, key: &str) -> Vec<&Attr> {
        self.attrs.iter().filter(|a| a.key == key).collect()
    }

    pub fn attr(&self, key: &str) -> Option<&Attr> {
        self.attrs.iter().rev().find(|a| a.key == key)
    }
}

/// The template: what `packer build` would run for the azure-arm source.
#[derive(Debug, Clone)]
pub struct Template {
    pub builder: Block,
    pub provisioners: Vec<Block>,
    pub description: Option<String>,
    /// The whole first file, for findings about the template as a whole.
    pub whole: Span,
}
