source "azure-arm" "runner" {
  use_azure_cli_auth = true
  subscription_id    = var.subscription_id
  os_type            = "Linux"
  image_publisher    = "Canonical"
  image_offer        = "ubuntu-24_04-lts"
  image_sku          = "server"
  location           = var.location
  vm_size            = var.vm_size

  shared_image_gallery_destination {
    subscription        = "5d4c3b2a-1908-4f7e-8d6c-5b4a39281706"
    resource_group      = var.gallery_resource_group
    gallery_name        = "gal_ci"
    image_name          = var.image_name
    image_version       = "1.2.0"
    replication_regions = ["centralus", "eastus2"]
  }
}
