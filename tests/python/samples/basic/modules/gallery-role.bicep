metadata name = 'gallery role assignment'

targetScope = 'resourceGroup'

@description('Required. Principal that receives the role.')
param principalId string

@description('Required. Gallery name.')
param galleryName string

@description('Required. Role definition GUID.')
param roleDefinitionId string

resource gallery 'Microsoft.Compute/galleries@2025-03-03' existing = {
  name: galleryName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(gallery.id, principalId, roleDefinitionId)
  scope: gallery
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

@description('Name of the role assignment.')
output assignmentName string = assignment.name
