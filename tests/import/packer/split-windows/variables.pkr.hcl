variable "client_id" {
  type    = string
  default = env("ARM_CLIENT_ID")
}

variable "client_secret" {
  type      = string
  default   = env("ARM_CLIENT_SECRET")
  sensitive = true
}

variable "tenant_id" {
  type    = string
  default = env("ARM_TENANT_ID")
}

variable "region" {
  type    = string
  default = "uksouth"
}

variable "image_rg" {
  type = string
}
