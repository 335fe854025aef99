variable "sig_subscription" {
  type    = string
  default = "1e2d3c4b-5a69-4788-97a6-b5c4d3e2f1a0"
}

source "azure-arm" "ubuntu" {
  use_azure_cli_auth = true
  subscription_id    = var.sig_subscription
  os_type            = "Linux"
  image_publisher    = "Canonical"
  image_offer        = "ubuntu-24_04-lts"
  image_sku          = "server"
  location           = "eastus2"
  vm_size            = "Standard_D2s_v5"

  shared_image_gallery_destination {
    resource_group          = "rg-gallery"
    gallery_name            = "gal_global"
    image_name              = "ubuntu-2404-global"
    image_version           = "3.2.1"
    use_shallow_replication = true

    target_region {
      name                 = "eastus2"
      replicas             = 3
      storage_account_type = "Standard_ZRS"
    }
    target_region {
      name = "westeurope"
    }
    target_region {
      name     = "japaneast"
      replicas = 2
    }
  }
  shared_gallery_image_version_exclude_from_latest = true

  azure_tag {
    name  = "owner"
    value = "platform"
  }
  azure_tag {
    name  = "classification"
    value = "internal"
  }
}

build {
  sources = ["source.azure-arm.ubuntu"]

  provisioner "shell" {
    inline = ["sudo apt-get update", "sudo apt-get -y dist-upgrade"]
  }
}
