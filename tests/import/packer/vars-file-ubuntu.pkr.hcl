packer {
  required_plugins {
    azure = {
      source  = "github.com/hashicorp/azure"
      version = ">= 2.0.0"
    }
  }
}

variable "subscription_id" {
  type    = string
  default = env("ARM_SUBSCRIPTION_ID")
}

variable "location" {
  type    = string
  default = ""
}

variable "image_resource_group" {
  type    = string
  default = ""
}

variable "image_name" {
  type    = string
  default = "ubuntu-2204-base"
}

variable "vm_size" {
  type    = string
  default = "Standard_D2s_v5"
}

source "azure-arm" "ubuntu" {
  use_azure_cli_auth                = true
  subscription_id                   = var.subscription_id
  os_type                           = "Linux"
  image_publisher                   = "Canonical"
  image_offer                       = "0001-com-ubuntu-server-jammy"
  image_sku                         = "22_04-lts-gen2"
  location                          = var.location
  vm_size                           = var.vm_size
  managed_image_name                = var.image_name
  managed_image_resource_group_name = var.image_resource_group
}

build {
  sources = ["source.azure-arm.ubuntu"]

  provisioner "shell" {
    inline = [
      "sudo apt-get update",
      "sudo apt-get -y upgrade",
      "sudo apt-get install -y fail2ban",
    ]
  }

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}'"
    inline          = ["/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync"]
    inline_shebang  = "/bin/sh -x"
  }
}
