variable "virtual_network_name" {
  type    = string
  default = ""
}

variable "virtual_network_subnet_name" {
  type    = string
  default = ""
}

variable "virtual_network_resource_group_name" {
  type    = string
  default = ""
}

variable "image_version" {
  type    = string
  default = ""
}

source "azure-arm" "rocky" {
  use_azure_cli_auth                  = true
  os_type                             = "Linux"
  image_publisher                     = "resf"
  image_offer                         = "rockylinux-x86_64"
  image_sku                           = "9-base"
  location                            = "canadacentral"
  vm_size                             = "Standard_D2s_v5"
  virtual_network_name                = var.virtual_network_name
  virtual_network_subnet_name         = var.virtual_network_subnet_name
  virtual_network_resource_group_name = var.virtual_network_resource_group_name

  shared_image_gallery_destination {
    resource_group      = "rg-rocky-gallery"
    gallery_name        = "gal_rocky"
    image_name          = "rocky9"
    image_version       = var.image_version
    replication_regions = ["canadacentral"]
  }

  plan_info {
    plan_name      = "9-base"
    plan_product   = "rockylinux-x86_64"
    plan_publisher = "resf"
  }
}

build {
  sources = ["source.azure-arm.rocky"]

  provisioner "shell" {
    inline = ["sudo dnf -y install chrony", "sudo systemctl enable chronyd"]
  }
}
