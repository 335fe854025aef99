location = "germanywestcentral"
image_rg = "rg-sles-prod"
tags = {
  env   = "prod"
  owner = "linux-team"
}
