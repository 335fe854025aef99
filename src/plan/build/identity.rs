//! The user-assigned identity AIB runs as.

use super::*;

/// How the image template reaches AIB's identity.
pub(super) struct IdentityRefs {
    pub(super) resource_id: Expr,
}

impl Builder<'_> {
    pub(super) fn identity(&mut self) -> IdentityRefs {
        let spec_identity = self.spec.identity.clone().unwrap_or_default();
        let image = self.name().to_string();
        let mut m;
        if let Some(id) = &spec_identity.existing {
            m = module(
                "identity",
                "identity",
                &image,
                "The existing user-assigned identity Azure Image Builder runs as.",
            );
            m.scope = scope_of(id);
            let name = names_of(id).pop().unwrap_or_default();
            m.push(existing(
                "identity",
                "Microsoft.ManagedIdentity/userAssignedIdentities",
                api::MANAGED_IDENTITY,
                &name,
            ));
        } else {
            m = module(
                "identity",
                "identity",
                &image,
                "The user-assigned identity Azure Image Builder runs as. It gets roles only where the build needs them.",
            );
            let name = spec_identity.name.clone().unwrap_or_else(|| format!("id-{image}"));
            m.param(
                Param::new("name", ParamType::String, "Required. Name of the identity.").length(3, 128),
                from_spec_string(&name),
            );
            self.located(&mut m);
            let r = resource(
                "identity",
                "Microsoft.ManagedIdentity/userAssignedIdentities",
                api::MANAGED_IDENTITY,
                Expr::param("name"),
            );
            m.push(self.tracked(r));
        }
        m.output("resourceId", ParamType::String, "Resource ID of the identity.", Expr::id_of("identity"));
        m.output(
            PRINCIPAL,
            ParamType::String,
            "Principal ID of the identity, for role assignments.",
            Expr::prop_of("identity", &["properties", "principalId"]),
        );
        self.modules.push(m);
        IdentityRefs { resource_id: Expr::output("identity", "resourceId") }
    }
}
