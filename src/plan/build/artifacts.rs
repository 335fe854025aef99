//! The build's local files and the private storage they are uploaded to.

use super::access::{assignment, assignment_to, principal_param};
use super::steps::{step_file, validation_file};
use super::*;

impl Builder<'_> {
    pub(super) fn collect_artifacts(&mut self, base_dir: &FsPath) -> Result<(), String> {
        let mut paths: Vec<String> = Vec::new();
        let mut add = |p: &str| {
            if !p.contains("://") && !paths.iter().any(|x| x == p) {
                paths.push(p.to_string());
            }
        };
        let steps = self
            .steps
            .iter()
            .map(|(_, s)| step_file(s))
            .chain(self.spec.validate.iter().flat_map(|v| v.steps.iter().map(validation_file)));
        for f in steps.flatten() {
            add(f);
        }
        for (_, s) in &self.steps {
            super::steps::step_artifacts(s).iter().for_each(|f| add(f));
        }
        for v in self.spec.validate.iter().flat_map(|v| v.steps.iter()) {
            match v {
                ValidationStep::PowerShell(p) => p.artifacts.iter().for_each(|f| add(f)),
                ValidationStep::Shell(p) => p.artifacts.iter().for_each(|f| add(f)),
                ValidationStep::File(_) => {}
            }
        }
        for p in paths {
            let local = base_dir.join(&p);
            // A folder travels as one deterministic zip (AIB's File customizer copies files),
            // hashed as it streams (src/artifact).
            let crate::artifact::Digest { sha256: sha, size, folder } = crate::artifact::digest(&local)?;
            let mut file_name = FsPath::new(p.trim_end_matches(['/', '\\']))
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or("artifact")
                .to_string();
            if folder {
                file_name.push_str(".zip");
            }
            // Content-addressed: a changed file gets a new blob, so a template that pins
            // the old checksum never sees the new content, and unchanged files upload once.
            let blob = format!("{}/{}/{}", self.spec.name, &sha[..12], file_name);
            self.artifacts.push(Artifact { spec_path: p, local, blob, sha256: sha, size, folder });
        }
        Ok(())
    }

    /// The artifact storage module; returns main's expression for the container URL.
    pub(super) fn artifacts_module(&mut self) -> Option<Expr> {
        if self.artifacts.is_empty() && self.spec.storage.is_none() {
            return None;
        }
        let storage = self.spec.storage.clone().unwrap_or_default();
        let image = self.name().to_string();
        let container = storage.container.clone().unwrap_or_else(|| "artifacts".into());
        let mut m = module(
            "artifacts",
            "artifacts",
            &image,
            if storage.existing.is_some() {
                "The existing storage account for the build's scripts and files. AIB reads one container through its identity."
            } else {
                "Private storage for the build's scripts and files: no anonymous access, no shared keys, TLS 1.2, https only. AIB reads one container through its identity."
            },
        );
        let sa = "storageAccount";
        if let Some(id) = &storage.existing {
            m.scope = scope_of(id);
            let name = names_of(id).pop().unwrap_or_default();
            m.push(existing(sa, "Microsoft.Storage/storageAccounts", api::STORAGE, &name));
            m.push(
                existing("blobService", "Microsoft.Storage/storageAccounts/blobServices", api::STORAGE, "default")
                    .parent(sa),
            );
        } else {
            let account = match &storage.account {
                Some(a) => from_spec_string(a),
                // Storage account names are global; a hash of the group and image keeps
                // them unique and stable across redeploys.
                None => Expr::interp(vec![
                    Expr::str("st"),
                    Expr::call("uniqueString", vec![Expr::rg_id(), Expr::str(&image)]),
                ]),
            };
            m.param(
                Param::new(
                    "accountName",
                    ParamType::String,
                    "Required. Name of the storage account (3-24 lowercase letters and digits).",
                )
                .length(3, 24),
                account,
            );
            self.located(&mut m);
            let r = resource(sa, "Microsoft.Storage/storageAccounts", api::STORAGE, Expr::param("accountName"));
            let r = self
                .tracked(r)
                .with("sku", Expr::obj(vec![("name", Expr::str("Standard_LRS"))]))
                .with("kind", Expr::str("StorageV2"))
                .with(
                    "properties",
                    Expr::obj(vec![
                        ("accessTier", Expr::str("Hot")),
                        ("allowBlobPublicAccess", Expr::Bool(false)),
                        ("allowCrossTenantReplication", Expr::Bool(false)),
                        ("allowSharedKeyAccess", Expr::Bool(false)),
                        ("defaultToOAuthAuthentication", Expr::Bool(true)),
                        ("minimumTlsVersion", Expr::str("TLS1_2")),
                        ("supportsHttpsTrafficOnly", Expr::Bool(true)),
                        // Copies only from accounts of this tenant; no SFTP/local users.
                        ("allowedCopyScope", Expr::str("AAD")),
                        ("isLocalUserEnabled", Expr::Bool(false)),
                        ("publicNetworkAccess", Expr::str("Enabled")),
                        // Why Allow: see the module's intro (modules/artifacts.bicep.hbs).
                        (
                            "networkAcls",
                            Expr::obj(vec![
                                ("bypass", Expr::str("AzureServices")),
                                ("defaultAction", Expr::str("Allow")),
                            ]),
                        ),
                    ]),
                );
            m.push(r);
            // Soft delete: a blob or container deleted by mistake (or by a pruning script) can
            // be restored for a week, so a template that pins it keeps building.
            let retention = || Expr::obj(vec![("enabled", Expr::Bool(true)), ("days", Expr::Int(7))]);
            m.push(
                resource(
                    "blobService",
                    "Microsoft.Storage/storageAccounts/blobServices",
                    api::STORAGE,
                    Expr::str("default"),
                )
                .parent(sa)
                .with(
                    "properties",
                    Expr::obj(vec![
                        ("deleteRetentionPolicy", retention()),
                        ("containerDeleteRetentionPolicy", retention()),
                    ]),
                ),
            );
        }
        m.param(
            Param::new("containerName", ParamType::String, "Required. Name of the blob container for the artifacts.")
                .length(3, 63),
            from_spec_string(&container),
        );
        m.param(principal_param(), Expr::output("identity", PRINCIPAL));
        m.push(
            resource(
                "container",
                "Microsoft.Storage/storageAccounts/blobServices/containers",
                api::STORAGE,
                Expr::param("containerName"),
            )
            .parent("blobService")
            .with("properties", Expr::obj(vec![("publicAccess", Expr::str("None"))])),
        );
        m.push(assignment("containerReader", Role::StorageBlobDataReader, Some("container"), None));
        m.output("accountName", ParamType::String, "Name of the storage account.", Expr::prop_of(sa, &["name"]));
        m.output(
            "containerUrl",
            ParamType::String,
            "URL of the artifact container, without a trailing slash.",
            Expr::interp(vec![
                Expr::prop_of(sa, &["properties", "primaryEndpoints", "blob"]),
                Expr::param("containerName"),
            ]),
        );
        self.modules.push(m);
        Some(Expr::output("artifacts", "containerUrl"))
    }

    /// Whether any script step lists `artifacts:` (it downloads them with the build VM's identity).
    pub(super) fn uses_step_artifacts(&self) -> bool {
        self.steps.iter().any(|(_, s)| !super::steps::step_artifacts(s).is_empty())
            || self.spec.validate.iter().flat_map(|v| v.steps.iter()).any(|v| match v {
                ValidationStep::PowerShell(p) => !p.artifacts.is_empty(),
                ValidationStep::Shell(p) => !p.artifacts.is_empty(),
                ValidationStep::File(_) => false,
            })
    }

    /// Storage Blob Data Reader on the artifact container for each build VM identity, when a
    /// step's script downloads files from there itself (`artifacts:`).
    pub(super) fn artifact_readers(&mut self) {
        if !self.uses_step_artifacts() {
            return;
        }
        let outputs: Vec<(String, String)> = self
            .modules
            .iter()
            .filter(|m| m.file == "vm-identity-access")
            .flat_map(|m| {
                m.outputs
                    .iter()
                    .filter(|o| o.name.ends_with("PrincipalId"))
                    .map(|o| (m.symbol.clone(), o.name.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let Some(m) = self.modules.iter_mut().find(|m| m.symbol == "artifacts") else { return };
        for (k, (module, output)) in outputs.iter().enumerate() {
            let param = numbered("vmIdentityPrincipalId", k, outputs.len());
            m.param(
                Param::new(&param, ParamType::String, "Required. Principal ID of a build VM identity."),
                Expr::output(module, output),
            );
            let r = assignment_to(
                &numbered("vmIdentityReader", k, outputs.len()),
                Role::StorageBlobDataReader,
                Some("container"),
                None,
                &param,
            )
            .comment(
                "Storage Blob Data Reader: the build VM's identity downloads the files steps list in `artifacts:`.",
            );
            m.push(r);
        }
    }
}
