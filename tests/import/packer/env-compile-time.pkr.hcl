variable "image_rg" {
  type    = string
  default = env("IMAGE_RESOURCE_GROUP")
}

variable "script_url" {
  type    = string
  default = env("SETUP_SCRIPT_URL")
}

variable "environment" {
  type    = string
  default = env("ENVIRONMENT")
}

source "azure-arm" "ubuntu" {
  use_azure_cli_auth                = true
  os_type                           = "Linux"
  image_publisher                   = "Canonical"
  image_offer                       = "ubuntu-24_04-lts"
  image_sku                         = "server"
  location                          = "norwayeast"
  vm_size                           = "Standard_D2s_v5"
  managed_image_name                = "ubuntu-2404-${var.environment}"
  managed_image_resource_group_name = var.image_rg
  azure_tags = {
    environment = var.environment
  }
}

build {
  sources = ["source.azure-arm.ubuntu"]

  provisioner "shell" {
    inline = ["curl -fsSL ${var.script_url} -o /tmp/setup.sh", "sudo bash /tmp/setup.sh"]
  }
}
