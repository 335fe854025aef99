// Hand-written parameters file for samples/basic.
using 'main.bicep'

param imageTemplateName = 'it-ubuntu-22'
param buildTimeoutInMinutes = 90
param replicationRegions = [
  'westeurope'
  'northeurope'
]
param tags = {
  owner: 'platform'
  'cost-center': '42'
}
param gallerySubscriptionId = readEnvironmentVariable('GALLERY_SUBSCRIPTION_ID', '')
