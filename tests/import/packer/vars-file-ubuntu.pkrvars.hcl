location             = "westeurope"
image_resource_group = "rg-ubuntu-images"
image_name           = "ubuntu-2204-hardened"
