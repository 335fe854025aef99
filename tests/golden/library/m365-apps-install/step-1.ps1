$ErrorActionPreference = 'Stop'
New-Item -Path 'C:\BuildArtifacts\m365-apps-install' -ItemType Directory -Force | Out-Null
exit 0
