<#
.SYNOPSIS
    Removes consumer apps that have no place on a shared, managed desktop.

.DESCRIPTION
    Each app is removed for every existing user and deprovisioned, so new users do not
    get it either. Both halves matter: an app still installed for one user but no longer
    provisioned makes Sysprep fail at the end of the build.

    Safe to run again: apps already gone are skipped.
    Exit codes: 0 done; 1 failed.
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$apps = @(
    'Clipchamp.Clipchamp'
    'Microsoft.BingNews'
    'Microsoft.BingWeather'
    'Microsoft.GamingApp'
    'Microsoft.GetHelp'
    'Microsoft.MicrosoftSolitaireCollection'
    'Microsoft.WindowsFeedbackHub'
    'Microsoft.Xbox.TCUI'
    'Microsoft.XboxGamingOverlay'
    'Microsoft.XboxIdentityProvider'
    'Microsoft.XboxSpeechToTextOverlay'
)

try {
    $provisioned = @(Get-AppxProvisionedPackage -Online)
    foreach ($app in $apps) {
        foreach ($package in @(Get-AppxPackage -AllUsers -Name $app)) {
            Write-Output "Removing $($package.PackageFullName) for all users"
            Remove-AppxPackage -Package $package.PackageFullName -AllUsers
        }
        foreach ($package in @($provisioned | Where-Object { $_.DisplayName -eq $app })) {
            Write-Output "Deprovisioning $($package.PackageName)"
            Remove-AppxProvisionedPackage -Online -PackageName $package.PackageName | Out-Null
        }
    }
}
catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
