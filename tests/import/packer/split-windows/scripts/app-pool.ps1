$ErrorActionPreference = 'Stop'
Import-Module WebAdministration
New-WebAppPool -Name 'app' | Out-Null
