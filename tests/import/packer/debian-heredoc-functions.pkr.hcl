variable "environment" {
  type    = string
  default = "staging"
}

variable "packages" {
  type    = list(string)
  default = ["curl", "jq", "htop"]
}

locals {
  name_prefix = lower("DEB12-${var.environment}")
  pkg_line    = join(" ", var.packages)
  motd        = <<-EOT
    Welcome to ${local.name_prefix}
    Managed by the platform team.
  EOT
  disk        = var.environment == "prod" ? 128 : 64
}

source "azure-arm" "debian" {
  use_azure_cli_auth = true
  os_type            = "Linux"
  image_publisher    = "Debian"
  image_offer        = "debian-12"
  image_sku          = "12-gen2"
  location           = "swedencentral"
  vm_size            = "Standard_B2s"
  os_disk_size_gb    = 64

  managed_image_name                = format("%s-%s", local.name_prefix, "base")
  managed_image_resource_group_name = "rg-debian"
}

build {
  name    = "debian"
  sources = ["source.azure-arm.debian"]

  provisioner "shell" {
    inline = [
      "sudo apt-get update",
      "sudo apt-get install -y ${local.pkg_line}",
      "echo '${local.motd}' | sudo tee /etc/motd",
    ]
    expect_disconnect = true
  }

  provisioner "shell" {
    script = "${path.root}/scripts/install-tools.sh"
  }
}
