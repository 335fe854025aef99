//! The roles AIB's identity gets, each at the narrowest scope that works.
//!
//! Built-in role IDs are the same in every tenant. Where no built-in role is narrow
//! enough, a custom role with exact actions is defined in the resource group it is used
//! in (assignable only there).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Read the artifact container's blobs.
    StorageBlobDataReader,
    /// Write the VHD into the container a VHD distribution's `uri` names.
    StorageBlobDataContributor,
    /// AIB builds in the staging resource group (VM, disks, network, storage); Microsoft's
    /// AIB documentation requires Contributor there. Scoped to that group only.
    Contributor,
    /// Read a source image (gallery image definition or managed image).
    Reader,
    /// Attach a user-assigned identity to the build VM.
    ManagedIdentityOperator,
    /// Custom: publish image versions to one image definition.
    ImageVersionWriter,
    /// Custom: create managed images in one resource group.
    ManagedImageWriter,
    /// Custom: join the build VM to a subnet of one virtual network.
    SubnetJoiner,
    /// Custom: read one Compute Gallery (`galleries/read` applies at the gallery, not at an
    /// image definition below it).
    GalleryReader,
}

impl Role {
    /// The built-in role definition GUID, for built-in roles.
    pub fn builtin_id(self) -> Option<&'static str> {
        match self {
            Role::StorageBlobDataReader => Some("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"),
            Role::StorageBlobDataContributor => Some("ba92f5b4-2d11-453d-a403-e96b0029c9fe"),
            Role::Contributor => Some("b24988ac-6180-42a0-ab88-20f7382dd24c"),
            Role::Reader => Some("acdd72a7-3385-48ef-bd42-f606fba81ae7"),
            Role::ManagedIdentityOperator => Some("f1a07417-d97a-45cb-824c-7a7467783830"),
            _ => None,
        }
    }

    /// The role's name as Azure shows it (built-in) or as aibc names it (custom).
    pub fn display(self) -> &'static str {
        match self {
            Role::StorageBlobDataReader => "Storage Blob Data Reader",
            Role::StorageBlobDataContributor => "Storage Blob Data Contributor",
            Role::Contributor => "Contributor",
            Role::Reader => "Reader",
            Role::ManagedIdentityOperator => "Managed Identity Operator",
            Role::ImageVersionWriter => "aibc image version writer",
            Role::ManagedImageWriter => "aibc managed image writer",
            Role::SubnetJoiner => "aibc subnet joiner",
            Role::GalleryReader => "aibc gallery reader",
        }
    }

    /// Symbolic-name stem in generated files.
    pub fn symbol(self) -> &'static str {
        match self {
            Role::StorageBlobDataReader => "storageBlobDataReader",
            Role::StorageBlobDataContributor => "storageBlobDataContributor",
            Role::Contributor => "contributor",
            Role::Reader => "reader",
            Role::ManagedIdentityOperator => "managedIdentityOperator",
            Role::ImageVersionWriter => "imageVersionWriter",
            Role::ManagedImageWriter => "managedImageWriter",
            Role::SubnetJoiner => "subnetJoiner",
            Role::GalleryReader => "galleryReader",
        }
    }

    /// Exact actions of a custom role (from AIB's documented permissions).
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            // `galleries/read`, the fourth action AIB's documentation lists, is the gallery's
            // own: it is granted on the gallery (GalleryReader), where it applies.
            Role::ImageVersionWriter => &[
                "Microsoft.Compute/galleries/images/read",
                "Microsoft.Compute/galleries/images/versions/read",
                "Microsoft.Compute/galleries/images/versions/write",
            ],
            Role::ManagedImageWriter => {
                &["Microsoft.Compute/images/read", "Microsoft.Compute/images/write", "Microsoft.Compute/images/delete"]
            }
            Role::SubnetJoiner => {
                &["Microsoft.Network/virtualNetworks/read", "Microsoft.Network/virtualNetworks/subnets/join/action"]
            }
            Role::GalleryReader => &["Microsoft.Compute/galleries/read"],
            _ => &[],
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Role::ImageVersionWriter => {
                "Lets Azure Image Builder publish image versions to the gallery image definitions it is assigned on."
            }
            Role::ManagedImageWriter => {
                "Lets Azure Image Builder create and replace managed images in the resource group it is assigned on."
            }
            Role::SubnetJoiner => {
                "Lets Azure Image Builder join its build VM to subnets of the virtual network it is assigned on."
            }
            Role::GalleryReader => {
                "Lets Azure Image Builder read the Compute Gallery it is assigned on (not its images)."
            }
            _ => "",
        }
    }
}
