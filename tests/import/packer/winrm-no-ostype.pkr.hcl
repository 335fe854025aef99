source "azure-arm" "golden" {
  use_azure_cli_auth = true
  communicator       = "winrm"
  winrm_use_ssl      = true
  winrm_insecure     = true
  winrm_username     = "packer"
  location           = "uksouth"
  vm_size            = "Standard_D4s_v5"

  shared_image_gallery {
    subscription   = "5e4d3c2b-1a09-4877-a6b5-c4d3e2f1a0b9"
    resource_group = "rg-gold"
    gallery_name   = "gal_gold"
    image_name     = "corp-base"
    image_version  = "3.1.0"
  }

  managed_image_name                = "corp-app"
  managed_image_resource_group_name = "rg-apps"
}

build {
  sources = ["source.azure-arm.golden"]

  provisioner "file" {
    source      = "files/app.conf"
    destination = "C:/ProgramData/app/app.conf"
  }
}
