source "amazon-ebs" "aws" {
  region        = "us-west-2"
  instance_type = "t3.medium"
  ami_name      = "app-base"
}

source "azure-arm" "west" {
  use_azure_cli_auth = true
  os_type            = "Linux"
  image_publisher    = "Canonical"
  image_offer        = "ubuntu-24_04-lts"
  image_sku          = "server"
  location           = "westus2"
  vm_size            = "Standard_D2s_v5"

  managed_image_name                = "app-base-west"
  managed_image_resource_group_name = "rg-app-west"
}

source "azure-arm" "east" {
  use_azure_cli_auth = true
  os_type            = "Linux"
  image_publisher    = "Canonical"
  image_offer        = "ubuntu-24_04-lts"
  image_sku          = "server"
  location           = "eastus"
  vm_size            = "Standard_D2s_v5"

  managed_image_name                = "app-base-east"
  managed_image_resource_group_name = "rg-app-east"
}
