//! The build VM and how the build runs: VM profile, data disks, staging group, error
//! handling, tags for the build's resources, auto-run.

use super::super::resolve::Field;
use super::super::value::{V, Val};
use super::{GROUP_ID, Mapper, SUBNET_ID};
use crate::spec::*;

impl Mapper<'_> {
    pub(super) fn build(&mut self, props: &Val) -> Option<Build> {
        let mut b = Build::default();
        if let Some(vm) = props.get("vmProfile").filter(|x| !matches!(x.v, V::Null)) {
            self.unknown_keys(
                vm,
                "/vmProfile",
                &["vmSize", "osDiskSizeGB", "userAssignedIdentities", "vnetConfig"],
                "`vmProfile`",
            );
            b.vm_size = self.opt_string(vm, "vmSize", "/vmProfile", Field::Param).filter(|s| !s.is_empty());
            b.os_disk_size_gb = self.opt_u32(vm, "osDiskSizeGB", "/vmProfile").filter(|n| *n != 0);
            if let Some(ids) = vm.get("userAssignedIdentities") {
                let p = "/vmProfile/userAssignedIdentities";
                b.vm_identities = self
                    .r
                    .list(ids, p, "userAssignedIdentities")
                    .iter()
                    .enumerate()
                    .filter_map(|(i, x)| self.r.string(x, &format!("{p}/{i}"), "userAssignedIdentities", Field::Raw))
                    .collect();
            }
            if let Some(net) = vm.get("vnetConfig").filter(|x| !matches!(x.v, V::Null)) {
                self.r.at = "/build/subnet".into();
                self.unknown_keys(
                    net,
                    "/vmProfile/vnetConfig",
                    &["subnetId", "containerInstanceSubnetId", "proxyVmSize"],
                    "`vnetConfig`",
                );
                let p = "/vmProfile/vnetConfig";
                let id = self.opt_id(net, "subnetId", p, Field::Raw, SUBNET_ID).filter(|s| !s.is_empty());
                let ci =
                    self.opt_id(net, "containerInstanceSubnetId", p, Field::Raw, SUBNET_ID).filter(|s| !s.is_empty());
                let proxy = self.opt_string(net, "proxyVmSize", p, Field::Param).filter(|s| !s.is_empty());
                match id {
                    Some(id) if ci.is_none() && proxy.is_none() => b.subnet = Some(SubnetRef::Id(id)),
                    Some(id) => {
                        b.subnet =
                            Some(SubnetRef::Long(Subnet { id, container_instance_subnet_id: ci, proxy_vm_size: proxy }))
                    }
                    None if ci.is_some() || proxy.is_some() => {
                        self.r.gap(net.span, "`vnetConfig` without `subnetId` is left out");
                        self.r.remove(p, "`vnetConfig` without `subnetId` is left out".into());
                    }
                    None => {}
                }
            }
        }
        if let Some(t) = props.get("buildTimeoutInMinutes") {
            b.timeout_minutes = self
                .r
                .int(t, "/buildTimeoutInMinutes", "buildTimeoutInMinutes")
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n != 0);
        }
        if let Some(disks) = props.get("additionalDataDisks") {
            for (i, d) in self.r.list(disks, "/additionalDataDisks", "additionalDataDisks").iter().enumerate() {
                self.unknown_keys(d, &format!("/additionalDataDisks/{i}"), &["sizeGB"], "a data disk");
                if let Some(size_gb) = self.opt_u32(d, "sizeGB", &format!("/additionalDataDisks/{i}")) {
                    b.data_disks.push(DataDisk { size_gb });
                }
            }
        }
        self.r.at = "/build/stagingResourceGroup".into();
        b.staging_resource_group =
            self.opt_id(props, "stagingResourceGroup", "", Field::Raw, GROUP_ID).filter(|s| !s.is_empty());
        self.r.at = "/build".into();
        if let Some(eh) = props.get("errorHandling").filter(|x| !matches!(x.v, V::Null)) {
            self.unknown_keys(eh, "/errorHandling", &["onCustomizerError", "onValidationError"], "`errorHandling`");
            let mut on_error = |key: &str| match self
                .opt_string(eh, key, "/errorHandling", Field::Content)?
                .to_ascii_lowercase()
                .as_str()
            {
                "cleanup" => Some(OnError::Cleanup),
                "abort" => Some(OnError::Abort),
                other => {
                    self.r.gap(eh.span, format!("`{other}` is not `cleanup` or `abort`; it is left out"));
                    self.r.remove(&format!("/errorHandling/{key}"), format!("`{other}` is not `cleanup` or `abort`"));
                    None
                }
            };
            b.on_customizer_error = on_error("onCustomizerError");
            b.on_validation_error = on_error("onValidationError");
        }
        if let Some(t) = props.get("managedResourceTags") {
            b.managed_resource_tags = self.r.tags(t, "/managedResourceTags", "managedResourceTags");
        }
        if let Some(a) = props.get("autoRun").filter(|x| !matches!(x.v, V::Null)) {
            self.unknown_keys(a, "/autoRun", &["state"], "`autoRun`");
            b.auto_run =
                self.opt_string(a, "state", "/autoRun", Field::Content).map(|s| s.eq_ignore_ascii_case("enabled"));
        }
        (b != Build::default()).then_some(b)
    }
}
