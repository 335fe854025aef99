locals {
  name = "sles15-${var.location}"
  tags = merge(var.tags, { os = "sles" })
}
