using './module-bicepparam.json'

// Windows Server 2022 for the web tier.
param imageTemplateName = 'win2022-web-module'
param userAssignedIdentityId = '/subscriptions/3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c/resourceGroups/rg-aib/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aib'
param imageSource = {
  type: 'PlatformImage'
  publisher: 'MicrosoftWindowsServer'
  offer: 'WindowsServer'
  sku: '2022-datacenter-azure-edition'
  version: 'latest'
}
param customizations = [
  {
    type: 'PowerShell'
    name: 'iis'
    runElevated: true
    inline: [
      'Install-WindowsFeature -Name Web-Server -IncludeManagementTools'
    ]
  }
  {
    type: 'WindowsRestart'
    restartTimeout: '10m'
  }
]
param distributions = [
  {
    type: 'ManagedImage'
    imageId: '/subscriptions/3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c/resourceGroups/rg-images/providers/Microsoft.Compute/images/win2022-web'
    location: 'eastus2'
    runOutputName: 'win2022-web-managed'
  }
]
param buildTimeoutInMinutes = 120
