$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory -Force -Path C:\agent | Out-Null
Write-Host "agent prepared"
