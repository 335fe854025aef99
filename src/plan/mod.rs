//! The plan: every resource aibc will create, with its references and role assignments,
//! as one typed model. Both emitters print this model and nothing else, so the Bicep and
//! the ARM JSON cannot drift apart.
//!
//! Shape: a main file (parameters, module calls, outputs) and modules, one per concern,
//! each deployed at one resource group. This is how Bicep itself compiles modules to ARM
//! (nested deployments), so the two outputs match resource for resource.

mod build;
mod digest;
mod expr;
mod roles;

pub use build::{build, default_run_output_name, deploy_time_scheme, same_region};
pub use expr::{Expr, Prop};
pub use roles::Role;

use std::path::PathBuf;

/// Api-versions: the newest stable ones, as the specs in `shared/azure-specs` define.
pub mod api {
    pub const IMAGE_BUILDER: &str = "2025-10-01";
    pub const COMPUTE_GALLERY: &str = "2025-03-03";
    /// 2024-11-30 is the newest version with a published ARM deployment schema (and Bicep
    /// types); later swagger-only versions would defeat template validation.
    pub const MANAGED_IDENTITY: &str = "2024-11-30";
    pub const STORAGE: &str = "2025-06-01";
    pub const AUTHORIZATION: &str = "2022-04-01";
    pub const DEPLOYMENTS: &str = "2025-04-01";
    /// Managed images (`Microsoft.Compute/images`), only ever read (`existing`).
    pub const COMPUTE_IMAGES: &str = "2024-11-01";
    /// Virtual networks, only ever read (`existing`).
    pub const NETWORK: &str = "2024-05-01";
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The image's name from the spec.
    pub name: String,
    /// The spec file, as given on the command line (for the generated header).
    pub spec_file: String,
    pub description: String,
    /// First 8 hex digits of the SHA-256 of the image template's compiled content.
    pub content_hash: String,
    pub params: Vec<Param>,
    /// Main's variables: values several modules share.
    pub vars: Vec<(String, Expr)>,
    pub modules: Vec<Module>,
    pub outputs: Vec<Output>,
    /// Local files to upload before the template is deployed.
    pub artifacts: Vec<Artifact>,
    /// The rights AIB's identity needs, one line each (scope, role, custom actions). With
    /// `identity.assignRoles: false` the plan grants none of them and validate lists these.
    pub rights: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: ParamType,
    /// Starts with `Required.` or `Optional.` (AVM style).
    pub description: String,
    pub default: Option<Expr>,
    pub allowed: Vec<Expr>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Length limits of a string (`@minLength`/`@maxLength`), where Azure has them.
    pub length: Option<(u32, u32)>,
    /// Value known when compiling, for the parameter files (`main.bicepparam`).
    pub value: Option<Expr>,
}

impl Param {
    pub fn new(name: &str, ty: ParamType, description: impl Into<String>) -> Param {
        Param {
            name: name.into(),
            ty,
            description: description.into(),
            default: None,
            allowed: Vec::new(),
            min: None,
            max: None,
            length: None,
            value: None,
        }
    }
    pub fn length(mut self, min: u32, max: u32) -> Param {
        self.length = Some((min, max));
        self
    }
    pub fn default(mut self, e: Expr) -> Param {
        self.default = Some(e);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Int,
    Bool,
    Object,
    Array,
}

impl ParamType {
    pub fn bicep(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Bool => "bool",
            ParamType::Object => "object",
            ParamType::Array => "array",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: String,
    pub ty: ParamType,
    pub description: String,
    pub value: Expr,
}

/// A resource group a module deploys to, when not the deployment's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgScope {
    pub subscription: String,
    pub resource_group: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    /// Symbolic name in main.bicep.
    pub symbol: String,
    /// File name under `modules/` (without `.bicep`); also the template it renders from.
    pub file: String,
    /// The nested deployment's name: stable, so redeploys update rather than pile up.
    pub deployment: String,
    pub scope: Option<RgScope>,
    /// `metadata description` of the module file.
    pub description: String,
    pub params: Vec<Param>,
    /// Values main passes for the params, in main's terms.
    pub args: Vec<(String, Expr)>,
    pub resources: Vec<Resource>,
    pub outputs: Vec<Output>,
    /// Modules that must finish first though no value flows (role assignments before
    /// the template that relies on them).
    pub depends_on: Vec<String>,
    /// Deployed only when this (main) expression is true.
    pub condition: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub symbol: String,
    pub rtype: String,
    pub api: &'static str,
    pub existing: bool,
    /// This resource's own name (a child's last segment).
    pub name: Expr,
    /// Symbol of the parent resource, for child resources.
    pub parent: Option<String>,
    /// Symbol of the resource an extension resource (role assignment) applies to; `None`
    /// is the module's resource group.
    pub scope: Option<String>,
    /// A line comment shown above the resource in Bicep.
    pub comment: Option<String>,
    /// Everything after name/parent/scope: location, tags, identity, properties, …
    pub body: Vec<Prop>,
}

/// A local file the build needs, uploaded to the artifact container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// As written in the spec.
    pub spec_path: String,
    /// Resolved on disk.
    pub local: PathBuf,
    /// Blob name in the container: content-addressed, so uploads are idempotent.
    pub blob: String,
    pub sha256: String,
    pub size: u64,
    /// A folder, uploaded as `artifact::zip` of it (the bytes `sha256` is of).
    pub folder: bool,
}

impl Module {
    /// The nested deployment's name. A module deployed into another resource group (a shared
    /// gallery, network or staging group) adds a hash of the deploying group: two deploys of
    /// the same spec from two groups then keep two deployments there instead of overwriting
    /// one, and each stays stable across its own redeploys. ARM names are at most 64
    /// characters.
    pub fn deployment_name(&self) -> Expr {
        if self.scope.is_none() {
            return Expr::str(&self.deployment);
        }
        const MAX: usize = 64 - 7;
        let stem = if self.deployment.len() > MAX {
            let tail = 16;
            format!("{}{}", &self.deployment[..MAX - tail], &self.deployment[self.deployment.len() - tail..])
        } else {
            self.deployment.clone()
        };
        Expr::interp(vec![
            Expr::str(format!("{stem}-")),
            Expr::call("take", vec![Expr::call("uniqueString", vec![Expr::rg_id()]), Expr::Int(6)]),
        ])
    }

    pub fn resource(&self, symbol: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.symbol == symbol)
    }
}
