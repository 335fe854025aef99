metadata name = 'aibc sample: linux image'
metadata description = 'Hand-written sample used to probe the Bicep parser.'

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

@description('Required. Name of the image template.')
@minLength(1)
@maxLength(64)
param imageTemplateName string

@description('Optional. Azure region for every resource.')
param location string = resourceGroup().location

@description('Optional. VM size used by the build VM.')
@allowed([
  'Standard_D2s_v5'
  'Standard_D4s_v5'
])
param vmSize string = 'Standard_D2s_v5'

@description('Optional. Build timeout in minutes.')
@minValue(0)
@maxValue(960)
param buildTimeoutInMinutes int = 120

@description('Optional. Existing staging resource group id, or null.')
param stagingResourceGroupId string?

@description('Optional. Gallery subscription id.')
param gallerySubscriptionId string = subscription().subscriptionId

@description('Optional. Gallery resource group name.')
param galleryResourceGroupName string = resourceGroup().name

@description('Optional. Resource tags.')
param tags object = {}

@description('Optional. Replicate to these regions.')
param replicationRegions array = [
  location
]

@secure()
@description('Optional. A secret that is never output.')
param secretValue string = ''

param enableAutoRun bool = false

// ---------------------------------------------------------------------------
// Variables
// ---------------------------------------------------------------------------

var identityName = 'id-${imageTemplateName}'
var contributorRoleId = 'b24988ac-6180-42a0-ab88-20f7382dd24c'
var shortSuffix = take(uniqueString(resourceGroup().id, imageTemplateName), 8)
var escaped = 'it\'s a \\ backslash and a \${literal} and a newline\n and tab\t'
var dollarOnly = 'cost: $5'
var multiLine = '''
#!/bin/bash
echo 'single quotes stay' "and doubles"
echo ${NOT_INTERPOLATED}
'''
var nested = {
  list: [
    1
    'two'
    true
    null
  ]
  'quoted-key': 'v'
  inner: {
    deep: -3
  }
}

// ---------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: identityName
  location: location
  tags: tags
}

resource gallery 'Microsoft.Compute/galleries@2025-03-03' existing = {
  name: 'gal_${shortSuffix}'
  scope: resourceGroup(gallerySubscriptionId, galleryResourceGroupName)
}

resource galleryImage 'Microsoft.Compute/galleries/images@2025-03-03' existing = {
  parent: gallery
  name: 'ubuntu-22'
}

#disable-next-line use-recent-api-versions // pinned on purpose
resource roleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, identity.id, contributorRoleId)
  scope: resourceGroup()
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributorRoleId)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource imageTemplate 'Microsoft.VirtualMachineImages/imageTemplates@2025-10-01' = {
  name: imageTemplateName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    buildTimeoutInMinutes: buildTimeoutInMinutes
    stagingResourceGroup: stagingResourceGroupId
    vmProfile: {
      vmSize: vmSize
      osDiskSizeGB: 0
    }
    source: {
      type: 'PlatformImage'
      publisher: 'Canonical'
      offer: '0001-com-ubuntu-server-jammy'
      sku: '22_04-lts-gen2'
      version: 'latest'
    }
    customize: [
      {
        type: 'Shell'
        name: 'install-tools'
        inline: [
          'sudo apt-get update'
          'echo "${imageTemplateName}-${location}"'
        ]
      }
      {
        type: 'Shell'
        name: 'script'
        inline: [
          multiLine
        ]
      }
    ]
    distribute: [
      {
        type: 'SharedImage'
        galleryImageId: galleryImage.id
        runOutputName: '${imageTemplateName}-sig'
        replicationRegions: replicationRegions
      }
    ]
    autoRun: {
      state: enableAutoRun ? 'Enabled' : 'Disabled'
    }
  }
  dependsOn: [
    roleAssignment
  ]
}

// ---------------------------------------------------------------------------
// Modules
// ---------------------------------------------------------------------------

module galleryRole 'modules/gallery-role.bicep' = {
  name: 'gallery-role-${shortSuffix}'
  scope: resourceGroup(gallerySubscriptionId, galleryResourceGroupName)
  params: {
    principalId: identity.properties.principalId
    galleryName: gallery.name
    roleDefinitionId: contributorRoleId
  }
}

// ---------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------

@description('Resource id of the image template.')
output imageTemplateId string = imageTemplate.id

@description('Principal id of the build identity.')
output principalId string = identity.properties.principalId

output roleAssignmentName string = galleryRole.outputs.assignmentName

output escapedOut string = escaped
