# Values for the staging gallery: `packer build -var-file=staging.pkrvars.hcl .`
location               = "westus3"
gallery_resource_group = "rg-gallery-staging"
