$ErrorActionPreference = 'Stop'
New-Item -Path 'C:\BuildArtifacts\install-artifact' -ItemType Directory -Force | Out-Null
exit 0
