variable "size" {
  type    = string
  default = "large"
}

variable "gpu" {
  type    = bool
  default = false
}

locals {
  sizes   = { small = "Standard_D2s_v5", large = "Standard_D8s_v5" }
  vm_size = var.gpu ? "Standard_NC4as_T4_v3" : lookup(local.sizes, var.size, "Standard_D4s_v5")
  disk    = var.gpu ? 256 : 64 * 2
  regions = split(",", "northeurope,westeurope")
  primary = element(local.regions, 0)
}

source "azure-arm" "debian" {
  use_azure_cli_auth = true
  os_type            = "Linux"
  image_publisher    = "Debian"
  image_offer        = "debian-12"
  image_sku          = "12-gen2"
  location           = local.primary
  vm_size            = local.vm_size
  os_disk_size_gb    = local.disk

  shared_image_gallery_destination {
    subscription        = "5e4d3c2b-1a09-4877-a6b5-c4d3e2f1a0b9"
    resource_group      = "rg-debian-gallery"
    gallery_name        = "gal_debian"
    image_name          = "debian12-${var.size}"
    image_version       = "12.0.${length(local.regions)}"
    replication_regions = local.regions
  }
}

build {
  sources = ["source.azure-arm.debian"]

  provisioner "shell" {
    inline = ["sudo apt-get update", "sudo apt-get install -y unattended-upgrades"]
  }
}
