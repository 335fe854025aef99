variable "location" {
  type = string
}

variable "build_rg" {
  type = string
}

variable "data_disks" {
  type    = list(number)
  default = []
}

source "azure-arm" "oracle" {
  use_azure_cli_auth                = true
  os_type                           = "Linux"
  image_publisher                   = "Oracle"
  image_offer                       = "Oracle-Linux"
  image_sku                         = "ol94-lvm-gen2"
  location                          = var.location
  vm_size                           = "Standard_D2s_v5"
  build_resource_group_name         = var.build_rg
  disk_additional_size              = var.data_disks
  managed_image_name                = "ol9"
  managed_image_resource_group_name = "rg-oracle-images"
}

build {
  sources = ["source.azure-arm.oracle"]

  provisioner "shell" {
    inline = ["sudo dnf -y install oracle-epel-release-el9"]
  }
}
