<#
.SYNOPSIS
    Configures FSLogix profile containers on an Azure Files share.

.DESCRIPTION
    The AVD marketplace image ships the FSLogix agent; this script only configures it:
    - profile containers (VHDX, dynamically expanding) on the share below
    - sign-in fails rather than falling back to a local or temporary profile, so a
      broken share is noticed at once instead of as "my files are gone"
    - Microsoft Entra Kerberos for Azure Files (Entra-joined session hosts)
    - Microsoft Defender exclusions FSLogix needs for mounted containers

    Safe to run again: every value is written to its target, exclusions are not duplicated.
    Exit codes: 0 done; 1 failed (also when FSLogix is not installed).
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# --- Edit for your environment ---------------------------------------------------------
# One share per host pool (or per region). The storage account is reached through its
# private endpoint; the name below resolves to it from the session host subnet.
$profileShare = '\\stavdprofilesweu01.file.core.windows.net\profiles'
$profileSizeMB = 30000
# ----------------------------------------------------------------------------------------

function Set-RegistryValue {
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [Parameter(Mandatory = $true)] [string] $Name,
        [Parameter(Mandatory = $true)] [object] $Value,
        [ValidateSet('DWord', 'String', 'MultiString')] [string] $Type = 'DWord'
    )
    if (-not (Test-Path -Path $Path)) {
        New-Item -Path $Path -Force | Out-Null
    }
    New-ItemProperty -Path $Path -Name $Name -Value $Value -PropertyType $Type -Force | Out-Null
    Write-Output "$Path\$Name = $($Value -join '; ')"
}

try {
    $frx = Join-Path -Path $env:ProgramFiles -ChildPath 'FSLogix\Apps\frx.exe'
    if (-not (Test-Path -Path $frx)) {
        throw "FSLogix is not installed ($frx is missing). Install it before this step, or use an AVD marketplace image."
    }

    $profiles = 'HKLM:\SOFTWARE\FSLogix\Profiles'
    Set-RegistryValue -Path $profiles -Name 'Enabled' -Value 1
    Set-RegistryValue -Path $profiles -Name 'VHDLocations' -Value @($profileShare) -Type MultiString
    Set-RegistryValue -Path $profiles -Name 'VolumeType' -Value 'VHDX' -Type String
    Set-RegistryValue -Path $profiles -Name 'IsDynamic' -Value 1
    Set-RegistryValue -Path $profiles -Name 'SizeInMBs' -Value $profileSizeMB
    # Folder names start with the user name (SID second): easier for support staff.
    Set-RegistryValue -Path $profiles -Name 'FlipFlopProfileDirectoryName' -Value 1
    # A local profile left over from before FSLogix applied would hide the container.
    Set-RegistryValue -Path $profiles -Name 'DeleteLocalProfileWhenVHDShouldApply' -Value 1
    Set-RegistryValue -Path $profiles -Name 'PreventLoginWithFailure' -Value 1
    Set-RegistryValue -Path $profiles -Name 'PreventLoginWithTempProfile' -Value 1
    # Ride out short storage hiccups (failover, throttling) instead of failing the sign-in.
    Set-RegistryValue -Path $profiles -Name 'LockedRetryCount' -Value 3
    Set-RegistryValue -Path $profiles -Name 'LockedRetryInterval' -Value 15
    Set-RegistryValue -Path $profiles -Name 'ReAttachRetryCount' -Value 3
    Set-RegistryValue -Path $profiles -Name 'ReAttachIntervalSeconds' -Value 15

    # Microsoft Entra Kerberos: lets Entra-joined hosts get Kerberos tickets for Azure Files.
    Set-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa\Kerberos\Parameters' -Name 'CloudKerberosTicketRetrievalEnabled' -Value 1
    Set-RegistryValue -Path 'HKLM:\SOFTWARE\Policies\Microsoft\AzureADAccount' -Name 'LoadCredKeyFromProfile' -Value 1

    # Defender must not scan containers while FSLogix mounts them, nor its own processes.
    $exclusionPaths = @(
        '%TEMP%\*\*.VHD'
        '%TEMP%\*\*.VHDX'
        '%Windir%\TEMP\*\*.VHD'
        '%Windir%\TEMP\*\*.VHDX'
        "$profileShare\*\*.VHD"
        "$profileShare\*\*.VHD.lock"
        "$profileShare\*\*.VHD.meta"
        "$profileShare\*\*.VHD.metadata"
        "$profileShare\*\*.VHDX"
        "$profileShare\*\*.VHDX.lock"
        "$profileShare\*\*.VHDX.meta"
        "$profileShare\*\*.VHDX.metadata"
    )
    $exclusionProcesses = @(
        '%ProgramFiles%\FSLogix\Apps\frxccd.exe'
        '%ProgramFiles%\FSLogix\Apps\frxccds.exe'
        '%ProgramFiles%\FSLogix\Apps\frxsvc.exe'
    )
    Add-MpPreference -ExclusionPath $exclusionPaths -ExclusionProcess $exclusionProcesses
    Write-Output "Defender: $($exclusionPaths.Count) path and $($exclusionProcesses.Count) process exclusions in place."
}
catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
