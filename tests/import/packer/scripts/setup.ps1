# Base settings for every Windows image.
$ErrorActionPreference = 'Stop'
Set-TimeZone -Id 'UTC'
Set-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server' -Name fDenyTSConnections -Value 0
