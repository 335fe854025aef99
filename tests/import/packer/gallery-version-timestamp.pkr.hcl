variable "gallery" {
  type = object({
    resource_group = string
    name           = string
    image          = string
  })
  default = {
    resource_group = "rg-nightly"
    name           = "gal_nightly"
    image          = "ubuntu-nightly"
  }
}

locals {
  version = formatdate("YYYY.MMDD.hhmm", timestamp())
}

source "azure-arm" "nightly" {
  use_azure_cli_auth = true
  os_type            = "Linux"
  image_publisher    = "Canonical"
  image_offer        = "ubuntu-24_04-lts"
  image_sku          = "server"
  location           = "eastus"
  vm_size            = "Standard_D2s_v5"

  shared_image_gallery_destination {
    subscription        = "5e4d3c2b-1a09-4877-a6b5-c4d3e2f1a0b9"
    resource_group      = var.gallery.resource_group
    gallery_name        = var.gallery.name
    image_name          = var.gallery.image
    image_version       = local.version
    replication_regions = ["eastus", "westus2"]
  }
}

build {
  sources = ["source.azure-arm.nightly"]

  provisioner "shell" {
    inline = ["echo nightly ${local.version} | sudo tee /etc/nightly"]
  }
}
