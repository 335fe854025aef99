# Microsoft 365 Apps settings for multi-session session hosts.
#
# Why:
#   - Shared computer activation: on a host many users share, Microsoft 365 Apps must
#     activate per user (with their licence) instead of per machine. Set by the licensing
#     policy (HKLM\SOFTWARE\Policies\Microsoft\Office\16.0\Common\Licensing,
#     SharedComputerLicensing = 1) and, where Click-to-Run is installed, by its own value
#     (HKLM\SOFTWARE\Microsoft\Office\ClickToRun\Configuration, SharedComputerLicensing = "1").
#   - Updates off: hosts are updated by building a newer image and replacing them, not by
#     Office updating itself in users' sessions. Policies under
#     HKLM\SOFTWARE\Policies\Microsoft\Office\16.0\Common\OfficeUpdate:
#     enableautomaticupdates = 0, hideupdatenotifications = 1, hideenabledisableupdates = 1.
#   - Outlook cached mode sync window: a smaller offline mailbox keeps profile containers
#     small. It is a user policy, so it goes into the default user profile (new profiles
#     are copied from it): Software\Policies\Microsoft\Office\16.0\Outlook\Cached Mode,
#     Enable = 1, SyncWindowSetting = <months>.
#
# Idempotent: values already right are left alone.
# Exit codes: 0 done; 1 failed (for example, the default user hive could not be loaded).
$ErrorActionPreference = 'Stop'

$sharedComputerActivation = {{ps-bool sharedComputerActivation}}
$disableUpdates = {{ps-bool disableUpdates}}
$syncWindowMonths = {{outlookSyncWindowMonths}}

$script:changes = 0

# Writes a registry value only when it differs; prints what it did.
function Set-RegistryValue {
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [Parameter(Mandatory = $true)] [string] $Name,
        [object] $Value,
        [ValidateSet('DWord', 'String')] [string] $Type = 'DWord'
    )
    if (-not (Test-Path -Path $Path)) {
        New-Item -Path $Path -Force | Out-Null
    }
    $key = Get-Item -Path $Path
    $current = $key.GetValue($Name, $null)
    $same = ($null -ne $current) -and ($key.GetValueKind($Name).ToString() -eq $Type) -and ("$current" -eq "$Value")
    $key.Close()
    if ($same) {
        Write-Output "  unchanged  $Path\$Name = $Value"
        return
    }
    New-ItemProperty -Path $Path -Name $Name -Value $Value -PropertyType $Type -Force | Out-Null
    $script:changes++
    Write-Output "  set        $Path\$Name = $Value"
}

$reg = Join-Path -Path $env:SystemRoot -ChildPath 'System32\reg.exe'
$hiveName = 'HKU\aibc-m365-default'
$hiveRoot = 'Registry::HKEY_USERS\aibc-m365-default'

function Dismount-DefaultUserHive {
    # Registry handles the provider opened keep the hive busy until they are collected.
    for ($attempt = 1; $attempt -le 10; $attempt++) {
        [System.GC]::Collect()
        [System.GC]::WaitForPendingFinalizers()
        & $reg unload $hiveName | Out-Null
        if ($LASTEXITCODE -eq 0) {
            return
        }
        Start-Sleep -Seconds 2
    }
    throw "Could not unload $hiveName; the default user profile stays locked until a restart."
}

try {
    $c2rKey = 'HKLM:\SOFTWARE\Microsoft\Office\ClickToRun\Configuration'
    $c2r = Test-Path -Path $c2rKey
    if ($c2r) {
        $c2rConfig = Get-ItemProperty -Path $c2rKey
        Write-Output "Microsoft 365 Apps (Click-to-Run) $($c2rConfig.VersionToReport) is installed."
    } else {
        Write-Output 'Microsoft 365 Apps (Click-to-Run) is not installed; only policies are written, and they apply once it is.'
    }

    if ($sharedComputerActivation) {
        Write-Output 'Shared computer activation:'
        Set-RegistryValue -Path 'HKLM:\SOFTWARE\Policies\Microsoft\Office\16.0\Common\Licensing' -Name 'SharedComputerLicensing' -Value 1
        if ($c2r) {
            Set-RegistryValue -Path $c2rKey -Name 'SharedComputerLicensing' -Value '1' -Type String
        }
    }

    if ($disableUpdates) {
        Write-Output 'Automatic updates:'
        $updates = 'HKLM:\SOFTWARE\Policies\Microsoft\Office\16.0\Common\OfficeUpdate'
        Set-RegistryValue -Path $updates -Name 'enableautomaticupdates' -Value 0
        Set-RegistryValue -Path $updates -Name 'hideupdatenotifications' -Value 1
        Set-RegistryValue -Path $updates -Name 'hideenabledisableupdates' -Value 1
    }

    if ($syncWindowMonths -gt 0) {
        Write-Output "Outlook cached mode, $syncWindowMonths month(s) of mail offline, for new profiles:"
        $defaultProfile = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList').Default
        $ntuser = Join-Path -Path $defaultProfile -ChildPath 'NTUSER.DAT'
        if (-not (Test-Path -Path $hiveRoot)) {
            & $reg load $hiveName $ntuser | Out-Null
            if ($LASTEXITCODE -ne 0) {
                throw "reg load $hiveName $ntuser failed with $LASTEXITCODE."
            }
        }
        try {
            $cached = "$hiveRoot\Software\Policies\Microsoft\Office\16.0\Outlook\Cached Mode"
            Set-RegistryValue -Path $cached -Name 'Enable' -Value 1
            Set-RegistryValue -Path $cached -Name 'SyncWindowSetting' -Value $syncWindowMonths
        } finally {
            Dismount-DefaultUserHive
        }
    }

    Write-Output "Microsoft 365 Apps configured; $($script:changes) change(s)."
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
