source "azure-arm" "custom" {
  use_azure_cli_auth                     = true
  location                               = "eastus"
  vm_size                                = "Standard_D2s_v5"
  custom_managed_image_name              = "appliance-base"
  custom_managed_image_resource_group_name = "rg-appliance"
  managed_image_name                     = "appliance"
  managed_image_resource_group_name      = "rg-appliance"
}

build {
  sources = ["source.azure-arm.custom"]
}
