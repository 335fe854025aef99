variable "location" {
  type    = string
  default = "eastus"
}

variable "image_name" {
  type = string
}

variable "owner" {
  type    = string
  default = env("BUILD_OWNER")
}

source "azure-arm" "mariner" {
  use_azure_cli_auth                = true
  os_type                           = "Linux"
  image_publisher                   = "MicrosoftCBLMariner"
  image_offer                       = "cbl-mariner"
  image_sku                         = "cbl-mariner-2-gen2"
  location                          = var.location
  vm_size                           = "Standard_D2s_v5"
  managed_image_name                = var.image_name
  managed_image_resource_group_name = "rg-mariner"

  azure_tag {
    name  = "owner"
    value = var.owner
  }
}

build {
  sources = ["source.azure-arm.mariner"]

  provisioner "shell" {
    inline = ["sudo tdnf -y update"]
  }
}
