<#
.SYNOPSIS
    Installs the German (de-DE) language pack on Windows Server 2022.

.DESCRIPTION
    Install-Language is a client-only cmdlet, so on Windows Server the language pack
    .cab from the Windows Server 2022 language pack ISO is added with DISM
    (Add-WindowsPackage). The team keeps the .cab in a private blob container; the
    build VM downloads it as its user-assigned identity (build.vmIdentities in
    image.yaml) and refuses any file whose SHA-256 differs from the pinned one.

    The display language of the image is not changed: administrators pick German per
    user, and the system locale stays en-US.

    Safe to run again: exits 0 without downloading when the language is installed.
    Exit codes: 0 done; 3010 done, a restart is needed to finish; 1 failed.
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'   # Invoke-WebRequest is far slower with a progress bar

# --- Edit for your environment --------------------------------------------------------
$language = 'de-DE'
$packageUrl = 'https://stcontosoimagemedia.blob.core.windows.net/media/windows-server-2022/Microsoft-Windows-Server-Language-Pack_x64_de-de.cab'
# (Get-FileHash -Algorithm SHA256 -Path <the .cab you uploaded>).Hash
$packageSha256 = 'REPLACE-WITH-THE-SHA256-OF-YOUR-LANGUAGE-PACK-CAB'
# ---------------------------------------------------------------------------------------

$workDir = Join-Path -Path $env:SystemDrive -ChildPath 'BuildArtifacts\language-pack'

try {
    if (Test-Path -Path "HKLM:\SYSTEM\CurrentControlSet\Control\MUI\UILanguages\$language") {
        Write-Output "$language is already installed."
        exit 0
    }
    if ($packageSha256 -notmatch '^[0-9A-Fa-f]{64}$') {
        throw 'Set $packageSha256 in install-language-pack.ps1 to the SHA-256 of the language pack .cab before building.'
    }

    New-Item -Path $workDir -ItemType Directory -Force | Out-Null
    $cab = Join-Path -Path $workDir -ChildPath "lp-$language.cab"

    # An Azure Storage token for the VM's user-assigned identity, from the instance
    # metadata service. With more than one identity on the VM, add &client_id=<id>.
    $tokenUri = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fstorage.azure.com%2F'
    $token = Invoke-RestMethod -Uri $tokenUri -Headers @{ Metadata = 'true' } -UseBasicParsing
    $headers = @{
        'Authorization' = "Bearer $($token.access_token)"
        'x-ms-version'  = '2021-08-06'
    }
    Write-Output "Downloading $packageUrl"
    Invoke-WebRequest -Uri $packageUrl -Headers $headers -OutFile $cab -UseBasicParsing

    $actual = (Get-FileHash -Path $cab -Algorithm SHA256).Hash
    if ($actual -ne $packageSha256) {
        throw "SHA-256 of the downloaded file is $actual, expected $packageSha256."
    }

    Write-Output "Adding the $language language pack"
    $result = Add-WindowsPackage -Online -PackagePath $cab -NoRestart
    Remove-Item -Path $workDir -Recurse -Force

    if ($result.RestartNeeded) {
        Write-Output 'Language pack added; a restart is needed to finish (exit 3010).'
        exit 3010
    }
    Write-Output 'Language pack added.'
    exit 0
}
catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
