using './main.bicep'

param name = 'ubuntu-bicep-module'
param identityId = '/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a/resourceGroups/rg-aib/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-image-builder'
param source = {
  type: 'PlatformImage'
  publisher: 'Canonical'
  offer: 'ubuntu-24_04-lts'
  sku: 'server'
  version: 'latest'
}
param steps = [
  {
    type: 'Shell'
    name: 'update'
    inline: ['sudo apt-get update', 'sudo apt-get -y upgrade']
  }
]
param galleryImageId = '/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a/resourceGroups/rg-gal/providers/Microsoft.Compute/galleries/gal_linux/images/ubuntu2404'
