packer {
  required_plugins {
    azure = {
      source  = "github.com/hashicorp/azure"
      version = "~> 2"
    }
  }
}

variable "subscription_id" {
  type    = string
  default = env("ARM_SUBSCRIPTION_ID")
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "image_version" {
  type        = string
  default     = "1.0.0"
  description = "Version of the gallery image to publish."
}

locals {
  image_name = "ubuntu-2204-base"
}

source "azure-arm" "ubuntu" {
  use_azure_cli_auth = true
  subscription_id    = var.subscription_id
  os_type            = "Linux"
  image_publisher    = "Canonical"
  image_offer        = "0001-com-ubuntu-server-jammy"
  image_sku          = "22_04-lts-gen2"
  location           = var.location
  vm_size            = "Standard_D2s_v5"
  os_disk_size_gb    = 64

  managed_image_name                = local.image_name
  managed_image_resource_group_name = "rg-images"

  azure_tags = {
    team = "platform"
    env  = "prod"
  }

  shared_image_gallery_destination {
    subscription        = "0b8f5c52-8e6a-4e3e-9a4f-2f1d2c3b4a59"
    resource_group      = "rg-images"
    gallery_name        = "gal_platform"
    image_name          = local.image_name
    image_version       = var.image_version
    replication_regions = ["westeurope", "northeurope"]
  }
}

build {
  sources = ["source.azure-arm.ubuntu"]

  provisioner "shell" {
    inline = ["sudo apt-get update", "sudo apt-get -y upgrade"]
  }

  provisioner "file" {
    source      = "files/app.conf"
    destination = "/tmp/"
  }

  provisioner "shell" {
    script = "scripts/harden.sh"
  }

  provisioner "breakpoint" {
    note = "check the VM before deprovisioning"
  }

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}'"
    inline          = ["/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync"]
    inline_shebang  = "/bin/sh -x"
  }

  post-processor "manifest" {
    output = "manifest.json"
  }
}
