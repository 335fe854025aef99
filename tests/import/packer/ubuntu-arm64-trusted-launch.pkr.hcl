source "azure-arm" "arm64" {
  use_azure_cli_auth = true
  os_type            = "Linux"
  image_publisher    = "Canonical"
  image_offer        = "0001-com-ubuntu-server-jammy"
  image_sku          = "22_04-lts-arm64"
  location           = "westus3"
  vm_size            = "Standard_D4ps_v5"

  secure_boot_enabled = true
  vtpm_enabled        = true
  security_type       = "TrustedLaunch"

  shared_image_gallery_destination {
    subscription        = "8f7e6d5c-4b3a-4291-8f7e-6d5c4b3a2918"
    resource_group      = "rg-arm64"
    gallery_name        = "gal_arm64"
    image_name          = "ubuntu-2204-arm64"
    image_version       = "1.0.0"
    replication_regions = ["westus3"]
    specialized         = false
  }
}

build {
  sources = ["source.azure-arm.arm64"]

  provisioner "shell" {
    inline = ["uname -m", "sudo apt-get update"]
  }
}
