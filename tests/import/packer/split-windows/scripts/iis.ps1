$ErrorActionPreference = 'Stop'
Install-WindowsFeature -Name Web-Server -IncludeManagementTools
