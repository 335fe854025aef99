source "azure-arm" "desktop" {
  use_azure_cli_auth                = true
  image_publisher                   = "MicrosoftWindowsDesktop"
  image_offer                       = "windows-11"
  image_sku                         = "win11-23h2-ent"
  location                          = "westeurope"
  vm_size                           = "Standard_D4s_v5"
  managed_image_name                = "win11-dev"
  managed_image_resource_group_name = "rg-desktops"
}

build {
  sources = ["source.azure-arm.desktop"]

  provisioner "file" {
    source      = "files/agent-config"
    destination = "C:/ProgramData/agent/config"
  }
}
