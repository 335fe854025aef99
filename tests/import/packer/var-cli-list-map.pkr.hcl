variable "regions" {
  type    = list(string)
  default = ["eastus"]
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "disk_gb" {
  type    = number
  default = 30
}

source "azure-arm" "flatcar" {
  use_azure_cli_auth = true
  os_type            = "Linux"
  image_publisher    = "kinvolk"
  image_offer        = "flatcar-container-linux-free"
  image_sku          = "stable-gen2"
  location           = "eastus"
  vm_size            = "Standard_D2s_v5"
  os_disk_size_gb    = var.disk_gb
  azure_tags         = var.tags

  shared_image_gallery_destination {
    subscription        = "5e4d3c2b-1a09-4877-a6b5-c4d3e2f1a0b9"
    resource_group      = "rg-flatcar"
    gallery_name        = "gal_containers"
    image_name          = "flatcar-stable"
    image_version       = "3815.2.0"
    replication_regions = var.regions
  }

  plan_info {
    plan_name      = "stable-gen2"
    plan_product   = "flatcar-container-linux-free"
    plan_publisher = "kinvolk"
  }
}

build {
  sources = ["source.azure-arm.flatcar"]
}
