$ErrorActionPreference = 'Stop'
Install-WindowsFeature -Name Web-Server, Web-Asp-Net45 -IncludeManagementTools
