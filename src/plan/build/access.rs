//! Role assignments and custom role definitions: AIB's rights on the source image, the
//! staging group, the virtual network, build-VM identities and managed-image groups.

use super::*;

/// A role assignment of `role` to AIB's identity on the resource `scope` (a symbol in the
/// same module; `None` for the module's resource group). `custom` names the symbol of a
/// custom role definition in the same module.
pub(super) fn assignment(symbol: &str, role: Role, scope: Option<&str>, custom: Option<&str>) -> Resource {
    assignment_to(symbol, role, scope, custom, PRINCIPAL)
}

/// The same for the principal in the module parameter `principal`.
pub(super) fn assignment_to(
    symbol: &str,
    role: Role,
    scope: Option<&str>,
    custom: Option<&str>,
    principal: &str,
) -> Resource {
    let scope_id = match scope {
        Some(s) => Expr::id_of(s),
        None => Expr::rg_id(),
    };
    let role_id = match (role.builtin_id(), custom) {
        (Some(id), _) => Expr::commented(
            role.display(),
            Expr::call(
                "subscriptionResourceId",
                vec![Expr::str("Microsoft.Authorization/roleDefinitions"), Expr::str(id)],
            ),
        ),
        (None, Some(def)) => Expr::id_of(def),
        (None, None) => unreachable!("custom roles come with their definition"),
    };
    let plain_role_id = match &role_id {
        Expr::Commented(_, e) => (**e).clone(),
        e => e.clone(),
    };
    let mut r = resource(
        symbol,
        "Microsoft.Authorization/roleAssignments",
        api::AUTHORIZATION,
        Expr::call("guid", vec![scope_id, Expr::param(principal), plain_role_id]),
    );
    r.scope = scope.map(str::to_string);
    r.comment = Some(format!("{}: {}", role.display(), role_purpose(role)));
    r.with(
        "properties",
        Expr::obj(vec![
            ("roleDefinitionId", role_id),
            ("principalId", Expr::param(principal)),
            // Skips the directory lookup that fails while a new identity replicates.
            ("principalType", Expr::str("ServicePrincipal")),
        ]),
    )
}

/// Main's parameter for Azure Image Builder's first-party service principal.
pub const FIRST_PARTY: &str = "imageBuilderPrincipalId";
/// The application ID of Azure Image Builder's first-party app ("Azure Virtual Machine Image
/// Builder"), the same in every tenant.
pub const AIB_FIRST_PARTY_APP: &str = "cf32a0cc-373c-47c9-9156-0db11f6a6dfc";

pub(super) fn role_purpose(role: Role) -> &'static str {
    match role {
        Role::StorageBlobDataReader => "AIB downloads the build's scripts and files from this container only.",
        Role::StorageBlobDataContributor => "AIB writes the VHD into this container only.",
        Role::Contributor => "AIB creates the build VM and its network and disks in this staging group.",
        Role::Reader => "AIB reads the source image.",
        Role::ManagedIdentityOperator => "AIB attaches this identity to the build VM.",
        Role::ImageVersionWriter => "AIB publishes image versions to this image definition.",
        Role::ManagedImageWriter => "AIB creates the managed image in this resource group.",
        Role::SubnetJoiner => "AIB joins the build VM to this virtual network.",
        Role::GalleryReader => "AIB reads this gallery (its image definitions have their own grant).",
    }
}

/// A custom role definition, assignable only in the module's resource group.
pub(super) fn role_definition(symbol: &str, role: Role) -> Resource {
    let key = format!("aibc-{}", role.symbol());
    resource(
        symbol,
        "Microsoft.Authorization/roleDefinitions",
        api::AUTHORIZATION,
        Expr::call("guid", vec![Expr::rg_id(), Expr::str(key)]),
    )
    .comment(format!("No built-in role is this narrow: {}", role.description()))
    .with(
        "properties",
        Expr::obj(vec![
            (
                "roleName",
                Expr::interp(vec![
                    Expr::str(format!("{} (", role.display())),
                    Expr::call("uniqueString", vec![Expr::rg_id()]),
                    Expr::str(")"),
                ]),
            ),
            ("description", Expr::str(role.description())),
            ("type", Expr::str("CustomRole")),
            (
                "permissions",
                Expr::Array(vec![Expr::obj(vec![
                    ("actions", Expr::Array(role.actions().iter().map(|a| Expr::str(*a)).collect())),
                    ("notActions", Expr::Array(vec![])),
                ])]),
            ),
            ("assignableScopes", Expr::Array(vec![Expr::rg_id()])),
        ]),
    )
}

pub(super) fn principal_param() -> Param {
    Param::new(PRINCIPAL, ParamType::String, "Required. Principal ID of the identity Azure Image Builder runs as.")
}

impl Builder<'_> {
    pub(super) fn source_access(&mut self) {
        let image = self.name().to_string();
        let (id, what) = match &self.spec.source {
            Source::Gallery(GallerySource::Id(id)) => (id.clone(), "gallery"),
            Source::Gallery(GallerySource::Long(g)) => (g.image_id.clone(), "gallery"),
            Source::ManagedImage(id) => (id.clone(), "managed"),
            Source::Platform(_) => return,
        };
        let mut m = module(
            "sourceAccess",
            "source-access",
            &image,
            "AIB's right to read the source image, and nothing else there.",
        );
        m.scope = scope_of(&id);
        m.param(principal_param(), Expr::output("identity", PRINCIPAL));
        let names = names_of(&id);
        if what == "gallery" {
            super::gallery::existing_gallery_image(&mut m, &names, "sourceImage");
        } else {
            m.push(existing(
                "sourceImage",
                "Microsoft.Compute/images",
                api::COMPUTE_IMAGES,
                names.first().map(String::as_str).unwrap_or_default(),
            ));
        }
        m.push(assignment("sourceReader", Role::Reader, Some("sourceImage"), None));
        if what == "gallery" {
            // Reader on the definition does not reach `galleries/read` on its gallery.
            m.push(role_definition("galleryReader", Role::GalleryReader));
            m.push(assignment("galleryReaderAssignment", Role::GalleryReader, Some("gallery"), Some("galleryReader")));
        }
        self.modules.push(m);
    }

    /// A Windows build on a virtual network in an existing staging group (see below).
    pub(super) fn needs_first_party_grant(&self) -> bool {
        let build = self.spec.build.as_ref();
        self.spec.os == Os::Windows && build.is_some_and(|b| b.subnet.is_some() && b.staging_resource_group.is_some())
    }

    pub(super) fn staging_access(&mut self) {
        let Some(rg) = self.spec.build.as_ref().and_then(|b| b.staging_resource_group.clone()) else {
            return;
        };
        let mut m = module(
            "stagingAccess",
            "staging-access",
            self.name(),
            "AIB's rights in the staging resource group it builds in.",
        );
        m.scope = scope_of(&rg);
        m.param(principal_param(), Expr::output("identity", PRINCIPAL));
        m.push(assignment("stagingContributor", Role::Contributor, None, None));
        // image-builder-json.md: "You will need to assign the contributor role to the resource
        // group for the service principal corresponding to Azure Image Builder's first party app
        // when trying to specify a pre-existing resource group and VNet to the Azure Image
        // Builder service with a Windows source image." Its object ID differs per tenant, so it
        // is a deploy-time parameter.
        if self.assign_roles && self.needs_first_party_grant() {
            let p = Param::new(
                FIRST_PARTY,
                ParamType::String,
                format!(
                    "Required. Object ID, in this tenant, of Azure Image Builder's first-party service principal (`az ad sp show --id {AIB_FIRST_PARTY_APP} --query id -o tsv`). A Windows build on a virtual network needs it to hold Contributor on the existing staging group."
                ),
            );
            self.params.push(p.clone());
            m.param(p, Expr::param(FIRST_PARTY));
            let r = assignment_to("imageBuilderContributor", Role::Contributor, None, None, FIRST_PARTY)
                .comment("Contributor for Azure Image Builder's own service principal: with a Windows source and a virtual network, AIB's service creates the proxy VM's disk here itself.");
            m.push(r);
        }
        self.modules.push(m);
    }

    pub(super) fn network_access(&mut self) {
        let Some(SubnetRefOwned { ids }) = self.spec.build.as_ref().and_then(|b| b.subnet.as_ref()).map(subnet_ids)
        else {
            return;
        };
        // One assignment per virtual network: the subnet's parent.
        let mut vnets: Vec<String> = Vec::new();
        for id in ids {
            if let Some(i) = id.to_ascii_lowercase().rfind("/subnets/") {
                let vnet = id[..i].to_string();
                if !vnets.contains(&vnet) {
                    vnets.push(vnet);
                }
            }
        }
        let image = self.name().to_string();
        for (n, vnet) in vnets.iter().enumerate() {
            let symbol = numbered("networkAccess", n, vnets.len());
            let mut m = module(
                &symbol,
                "network-access",
                &image,
                "AIB's right to join its build VM to the build subnet's virtual network.",
            );
            m.deployment = numbered_deployment(&m.deployment, n, vnets.len());
            m.scope = scope_of(vnet);
            m.param(principal_param(), Expr::output("identity", PRINCIPAL));
            m.push(existing(
                "virtualNetwork",
                "Microsoft.Network/virtualNetworks",
                api::NETWORK,
                names_of(vnet).first().map(String::as_str).unwrap_or_default(),
            ));
            m.push(role_definition("subnetJoiner", Role::SubnetJoiner));
            m.push(assignment(
                "subnetJoinerAssignment",
                Role::SubnetJoiner,
                Some("virtualNetwork"),
                Some("subnetJoiner"),
            ));
            self.modules.push(m);
        }
    }

    pub(super) fn vm_identity_access(&mut self) {
        let ids = self.spec.build.as_ref().map(|b| b.vm_identities.clone()).unwrap_or_default();
        if ids.is_empty() {
            return;
        }
        let mut groups: Vec<(RgScope, Vec<String>)> = Vec::new();
        for id in &ids {
            let Some(scope) = scope_of(id) else { continue };
            match groups.iter_mut().find(|(s, _)| *s == scope) {
                Some((_, v)) => v.push(id.clone()),
                None => groups.push((scope, vec![id.clone()])),
            }
        }
        let image = self.name().to_string();
        let count = groups.len();
        for (n, (scope, ids)) in groups.into_iter().enumerate() {
            let symbol = numbered("vmIdentityAccess", n, count);
            let mut m = module(
                &symbol,
                "vm-identity-access",
                &image,
                "AIB's right to attach these user-assigned identities to the build VM, and no other.",
            );
            m.deployment = numbered_deployment(&m.deployment, n, count);
            m.scope = Some(scope);
            m.param(principal_param(), Expr::output("identity", PRINCIPAL));
            for (i, id) in ids.iter().enumerate() {
                let sym = numbered("vmIdentity", i, ids.len());
                m.push(existing(
                    &sym,
                    "Microsoft.ManagedIdentity/userAssignedIdentities",
                    api::MANAGED_IDENTITY,
                    names_of(id).first().map(String::as_str).unwrap_or_default(),
                ));
                m.push(assignment(&format!("{sym}Operator"), Role::ManagedIdentityOperator, Some(&sym), None));
                if self.uses_step_artifacts() {
                    // For the artifact container's grant to the build VM (artifacts.rs).
                    m.output(
                        &format!("{sym}PrincipalId"),
                        ParamType::String,
                        "Principal ID of this build VM identity.",
                        Expr::prop_of(&sym, &["properties", "principalId"]),
                    );
                }
            }
            self.modules.push(m);
        }
    }

    /// AIB's right to write a VHD into the container of a distribution's `uri`.
    pub(super) fn vhd_access(&mut self) {
        let targets: Vec<(String, String)> = self
            .spec
            .distribute
            .iter()
            .filter_map(|d| match d {
                Distribution::Vhd(v) => {
                    let account = v.storage_account.clone()?;
                    let uri = v.uri.as_deref().filter(|u| !crate::params::has_references(u))?;
                    let (_, container) = crate::check::distribute::vhd_container(uri)?;
                    Some((account, container))
                }
                _ => None,
            })
            .fold(Vec::new(), |mut acc, t| {
                if !acc.contains(&t) {
                    acc.push(t);
                }
                acc
            });
        let image = self.name().to_string();
        let count = targets.len();
        for (n, (account, container)) in targets.into_iter().enumerate() {
            let symbol = numbered("vhdAccess", n, count);
            let mut m = module(
                &symbol,
                "vhd-access",
                &image,
                "AIB's right to write the VHD into this container, and nowhere else in the account.",
            );
            m.deployment = numbered_deployment(&m.deployment, n, count);
            m.scope = scope_of(&account);
            m.param(principal_param(), Expr::output("identity", PRINCIPAL));
            let name = names_of(&account).first().cloned().unwrap_or_default();
            m.push(existing("storageAccount", "Microsoft.Storage/storageAccounts", api::STORAGE, &name));
            m.push(
                existing("blobService", "Microsoft.Storage/storageAccounts/blobServices", api::STORAGE, "default")
                    .parent("storageAccount"),
            );
            m.push(
                existing(
                    "container",
                    "Microsoft.Storage/storageAccounts/blobServices/containers",
                    api::STORAGE,
                    &container,
                )
                .parent("blobService"),
            );
            m.push(assignment("vhdWriter", Role::StorageBlobDataContributor, Some("container"), None));
            self.modules.push(m);
        }
    }

    pub(super) fn managed_image_access(&mut self) {
        let mut groups: Vec<Option<String>> = Vec::new();
        for d in &self.spec.distribute {
            if let Distribution::ManagedImage(mi) = d
                && !groups.contains(&mi.resource_group)
            {
                groups.push(mi.resource_group.clone());
            }
        }
        let image = self.name().to_string();
        let count = groups.len();
        for (n, rg) in groups.into_iter().enumerate() {
            let symbol = numbered("managedImageAccess", n, count);
            let mut m = module(
                &symbol,
                "managed-image-access",
                &image,
                "AIB's right to create the managed image in this resource group.",
            );
            m.deployment = numbered_deployment(&m.deployment, n, count);
            m.scope = rg.map(|rg| RgScope { subscription: String::new(), resource_group: rg });
            m.param(principal_param(), Expr::output("identity", PRINCIPAL));
            m.push(role_definition("managedImageWriter", Role::ManagedImageWriter));
            m.push(assignment(
                "managedImageWriterAssignment",
                Role::ManagedImageWriter,
                None,
                Some("managedImageWriter"),
            ));
            self.modules.push(m);
        }
    }
}

pub(super) struct SubnetRefOwned {
    pub(super) ids: Vec<String>,
}

pub(super) fn subnet_ids(s: &SubnetRef) -> SubnetRefOwned {
    match s {
        SubnetRef::Id(id) => SubnetRefOwned { ids: vec![id.clone()] },
        SubnetRef::Long(s) => SubnetRefOwned {
            ids: std::iter::once(s.id.clone()).chain(s.container_instance_subnet_id.clone()).collect(),
        },
    }
}
