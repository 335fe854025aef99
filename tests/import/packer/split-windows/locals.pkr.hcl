locals {
  stamp      = formatdate("YYYYMMDDhhmm", timestamp())
  image_name = "iis-win2022-${local.stamp}"
  tags = {
    owner   = "web-team"
    created = local.stamp
  }
}
