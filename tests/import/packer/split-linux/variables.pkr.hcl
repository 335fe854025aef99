variable "subscription_id" {
  type      = string
  default   = env("ARM_SUBSCRIPTION_ID")
  sensitive = true
}

variable "location" {
  type    = string
  default = "eastus"
}

variable "vm_size" {
  type    = string
  default = "Standard_D2s_v5"
}

variable "image_name" {
  type = string
}

variable "gallery_resource_group" {
  type    = string
  default = "rg-gallery"
}
