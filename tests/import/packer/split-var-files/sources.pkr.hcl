source "azure-arm" "sles" {
  use_azure_cli_auth                = true
  os_type                           = "Linux"
  image_publisher                   = "SUSE"
  image_offer                       = "sles-15-sp5"
  image_sku                         = "gen2"
  location                          = var.location
  vm_size                           = "Standard_D2s_v5"
  managed_image_name                = local.name
  managed_image_resource_group_name = var.image_rg
  azure_tags                        = local.tags
}
