variable "location" {
  type = string
}

variable "image_rg" {
  type    = string
  default = ""
}

variable "tags" {
  type    = map(string)
  default = {}
}
