variable "environment" {
  type    = string
  default = "Staging"
}

variable "team" {
  type    = string
  default = "platform"
}

variable "extra_tags" {
  type    = map(string)
  default = { cost_center = "cc-1042" }
}

locals {
  env          = lower(var.environment)
  prefix       = format("%s-%s", var.team, local.env)
  image_name   = "${local.prefix}-ubuntu-${replace("22.04", ".", "")}"
  region       = upper(substr("westus3", 0, 4)) == "WEST" ? "westus3" : "eastus"
  common_tags  = merge({ team = var.team, env = local.env }, var.extra_tags)
  packages     = join(" ", compact(["curl", "", "jq", "git"]))
  owner        = coalesce("", title("ops team"))
  build_stamp  = formatdate("YYYYMMDDhhmm", timestamp())
}

source "azure-arm" "ubuntu" {
  use_azure_cli_auth                = true
  os_type                           = "Linux"
  image_publisher                   = "Canonical"
  image_offer                       = "0001-com-ubuntu-server-jammy"
  image_sku                         = "22_04-lts-gen2"
  location                          = local.region
  vm_size                           = "Standard_D2s_v5"
  managed_image_name                = local.image_name
  managed_image_resource_group_name = "rg-${local.env}-images"
  azure_tags                        = merge(local.common_tags, { owner = local.owner, built = local.build_stamp })
}

build {
  sources = ["source.azure-arm.ubuntu"]

  provisioner "shell" {
    inline = [
      "sudo apt-get update",
      "sudo apt-get install -y ${local.packages}",
      "echo ${local.prefix} | sudo tee /etc/image-prefix",
    ]
  }
}
