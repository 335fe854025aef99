# FSLogix profile containers for Azure Virtual Desktop session hosts.
#
# Why: pooled hosts keep no user state; FSLogix mounts each user's profile from a VHD(X)
# on a share at sign-in. The image carries the agent and its settings, so every host made
# from it behaves the same from its first sign-in.
#
# What it does:
#   1. Installs FSLogix from the release zip, unless it is already there (AVD marketplace
#      images ship it) and `install` is `ifMissing`.
#   2. Writes HKLM\SOFTWARE\FSLogix\Profiles: the given settings plus the retry values
#      Microsoft recommends for Azure Files (LockedRetry*, ReAttach*), ProfileType 0.
#   3. Optionally Microsoft Entra Kerberos for Azure Files.
#   4. Defender exclusions for the VHD(X) files (FSLogix's documented list).
#
# Idempotent: values already right are left alone, exclusions already present are not
# added again, and an installed FSLogix is not reinstalled (with `install: ifMissing`).
# Exit codes: 0 done; 1 failed (download, checksum, signature, installer or settings).
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$vhdLocations = @('\\stavdprofiles01.file.core.windows.net\profiles')
$installMode = 'ifMissing'
$installUrl = 'https://aka.ms/fslogix_download'
$installSha256 = ''
$enabled = $true
$sizeInMBs = 40000
$isDynamic = $true
$volumeType = 'VHDX'
$deleteLocalProfile = $true
$flipFlop = $true
$preventLoginWithFailure = $true
$cloudKerberos = $true
$defenderExclusions = $true

$script:changes = 0

# Writes a registry value only when it differs; prints what it did.
function Set-RegistryValue {
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [Parameter(Mandatory = $true)] [string] $Name,
        [object] $Value,
        [ValidateSet('DWord', 'String', 'MultiString')] [string] $Type = 'DWord'
    )
    if (-not (Test-Path -Path $Path)) {
        New-Item -Path $Path -Force | Out-Null
    }
    $key = Get-Item -Path $Path
    $current = $key.GetValue($Name, $null)
    $same = $false
    if ($null -ne $current) {
        $same = ($key.GetValueKind($Name).ToString() -eq $Type) -and ((@($current) -join "`n") -eq (@($Value) -join "`n"))
    }
    $key.Close()
    $shown = @($Value) -join '; '
    if ($same) {
        Write-Output "  unchanged  $Path\$Name = $shown"
        return
    }
    New-ItemProperty -Path $Path -Name $Name -Value $Value -PropertyType $Type -Force | Out-Null
    $script:changes++
    Write-Output "  set        $Path\$Name = $shown"
}

function ConvertTo-DWord {
    param([bool] $Flag)
    if ($Flag) { return 1 }
    return 0
}

function Install-FSLogix {
    $work = Join-Path -Path $env:SystemRoot -ChildPath 'Temp\aibc-fslogix'
    if (Test-Path -Path $work) {
        Remove-Item -Path $work -Recurse -Force
    }
    New-Item -Path $work -ItemType Directory -Force | Out-Null
    $zip = Join-Path -Path $work -ChildPath 'fslogix.zip'
    Write-Output "Downloading FSLogix from $installUrl"
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
    Invoke-WebRequest -Uri $installUrl -OutFile $zip -UseBasicParsing
    $hash = (Get-FileHash -Path $zip -Algorithm SHA256).Hash
    if ($installSha256 -ne '') {
        if ($hash -ne $installSha256) {
            throw "SHA-256 of the download is $hash, not the expected $installSha256."
        }
        Write-Output "SHA-256 matches ($hash)."
    } else {
        Write-Output "SHA-256 of the download: $hash (not pinned: set installSha256 to pin it)."
    }
    Expand-Archive -Path $zip -DestinationPath (Join-Path -Path $work -ChildPath 'zip') -Force
    # The release zip has x64\Release\FSLogixAppsSetup.exe (and Win32, ARM64 builds).
    $setup = Get-ChildItem -Path (Join-Path -Path $work -ChildPath 'zip') -Recurse -Filter 'FSLogixAppsSetup.exe' |
        Where-Object -FilterScript { $_.FullName -like '*\x64\*' } |
        Select-Object -First 1
    if ($null -eq $setup) {
        throw 'The zip has no x64 FSLogixAppsSetup.exe; is installUrl an FSLogix release zip?'
    }
    $signature = Get-AuthenticodeSignature -FilePath $setup.FullName
    if ($signature.Status -ne 'Valid') {
        throw "$($setup.Name) has no valid signature (status: $($signature.Status))."
    }
    if ($signature.SignerCertificate.Subject -notlike '*O=Microsoft Corporation*') {
        throw "$($setup.Name) is signed by '$($signature.SignerCertificate.Subject)', not Microsoft."
    }
    Write-Output "Running $($setup.FullName) /install /quiet /norestart"
    $process = Start-Process -FilePath $setup.FullName -ArgumentList '/install', '/quiet', '/norestart' -Wait -PassThru
    switch ($process.ExitCode) {
        0 { Write-Output 'FSLogix installed.' }
        3010 { Write-Output 'FSLogix installed; Windows wants a restart to finish (a later restart or the first boot of a host does it).' }
        1638 { Write-Output 'The installer reports this or a newer FSLogix version is already installed; left as it is.' }
        default { throw "FSLogixAppsSetup.exe exited with $($process.ExitCode)." }
    }
    Remove-Item -Path $work -Recurse -Force
}

try {
    if ($vhdLocations.Count -eq 0 -or @($vhdLocations | Where-Object -FilterScript { $_.Trim() -eq '' }).Count -gt 0) {
        Write-Output 'vhdLocations must list at least one path, none of them empty.'
        exit 1
    }
    if ($sizeInMBs -le 0) {
        Write-Output "sizeInMBs must be a positive number of MB, not $sizeInMBs."
        exit 1
    }

    # 1. The agent.
    $frx = Join-Path -Path $env:ProgramFiles -ChildPath 'FSLogix\Apps\frx.exe'
    $installed = Test-Path -Path $frx
    if ($installed) {
        Write-Output "FSLogix $((Get-Item -Path $frx).VersionInfo.ProductVersion) is installed."
    } else {
        Write-Output 'FSLogix is not installed.'
    }
    if ($installMode -eq 'always' -or ($installMode -eq 'ifMissing' -and -not $installed)) {
        Install-FSLogix
    } elseif ($installMode -eq 'never' -and -not $installed) {
        Write-Output "install is 'never' and $frx is missing: install FSLogix first, or use an AVD marketplace image."
        exit 1
    }
    if (-not (Test-Path -Path $frx)) {
        Write-Output "$frx is still missing after the install."
        exit 1
    }

    # 2. Profile containers.
    Write-Output 'Profile container settings:'
    $profiles = 'HKLM:\SOFTWARE\FSLogix\Profiles'
    Set-RegistryValue -Path $profiles -Name 'Enabled' -Value (ConvertTo-DWord $enabled)
    Set-RegistryValue -Path $profiles -Name 'VHDLocations' -Value ([string[]] $vhdLocations) -Type MultiString
    Set-RegistryValue -Path $profiles -Name 'VolumeType' -Value $volumeType -Type String
    Set-RegistryValue -Path $profiles -Name 'SizeInMBs' -Value $sizeInMBs
    Set-RegistryValue -Path $profiles -Name 'IsDynamic' -Value (ConvertTo-DWord $isDynamic)
    Set-RegistryValue -Path $profiles -Name 'DeleteLocalProfileWhenVHDShouldApply' -Value (ConvertTo-DWord $deleteLocalProfile)
    Set-RegistryValue -Path $profiles -Name 'FlipFlopProfileDirectoryName' -Value (ConvertTo-DWord $flipFlop)
    Set-RegistryValue -Path $profiles -Name 'PreventLoginWithFailure' -Value (ConvertTo-DWord $preventLoginWithFailure)
    Set-RegistryValue -Path $profiles -Name 'PreventLoginWithTempProfile' -Value (ConvertTo-DWord $preventLoginWithFailure)
    # Microsoft's recommended values for AVD with Azure Files: ride out a short storage
    # hiccup (failover, throttling) instead of waiting minutes or failing at once.
    Set-RegistryValue -Path $profiles -Name 'ProfileType' -Value 0
    Set-RegistryValue -Path $profiles -Name 'LockedRetryCount' -Value 3
    Set-RegistryValue -Path $profiles -Name 'LockedRetryInterval' -Value 15
    Set-RegistryValue -Path $profiles -Name 'ReAttachRetryCount' -Value 3
    Set-RegistryValue -Path $profiles -Name 'ReAttachIntervalSeconds' -Value 15

    # 3. Microsoft Entra Kerberos: Entra joined hosts get Kerberos tickets for Azure Files,
    # and the credential key is loaded from the (FSLogix) profile.
    if ($cloudKerberos) {
        Write-Output 'Microsoft Entra Kerberos for Azure Files:'
        Set-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa\Kerberos\Parameters' -Name 'CloudKerberosTicketRetrievalEnabled' -Value 1
        Set-RegistryValue -Path 'HKLM:\SOFTWARE\Policies\Microsoft\AzureADAccount' -Name 'LoadCredKeyFromProfile' -Value 1
    }

    # 4. Defender: FSLogix's documented file exclusions. Cloud Cache folders are not
    # listed: this entry does not configure Cloud Cache (CCDLocations).
    if ($defenderExclusions) {
        $defender = Get-Service -Name 'WinDefend' -ErrorAction SilentlyContinue
        if ($null -eq $defender -or $defender.Status -ne 'Running' -or $null -eq (Get-Command -Name 'Add-MpPreference' -ErrorAction SilentlyContinue)) {
            Write-Output 'Microsoft Defender Antivirus is not running; no exclusions added (configure your antivirus with the FSLogix exclusions).'
        } else {
            $wanted = New-Object -TypeName 'System.Collections.Generic.List[string]'
            $wanted.Add('%TEMP%\*\*.VHD')
            $wanted.Add('%TEMP%\*\*.VHDX')
            $wanted.Add('%Windir%\TEMP\*\*.VHD')
            $wanted.Add('%Windir%\TEMP\*\*.VHDX')
            $vhdLocations | ForEach-Object -Process {
                $root = $_.TrimEnd('\')
                $wanted.Add("$root\*\*.VHD")
                $wanted.Add("$root\*\*.VHD.lock")
                $wanted.Add("$root\*\*.VHD.meta")
                $wanted.Add("$root\*\*.VHD.metadata")
                $wanted.Add("$root\*\*.VHDX")
                $wanted.Add("$root\*\*.VHDX.lock")
                $wanted.Add("$root\*\*.VHDX.meta")
                $wanted.Add("$root\*\*.VHDX.metadata")
            }
            $existing = @((Get-MpPreference).ExclusionPath)
            $missing = @($wanted | Where-Object -FilterScript { $existing -notcontains $_ })
            if ($missing.Count -eq 0) {
                Write-Output "Defender: all $($wanted.Count) FSLogix exclusions are in place already."
            } else {
                Add-MpPreference -ExclusionPath $missing
                $script:changes += $missing.Count
                $missing | ForEach-Object -Process { Write-Output "  excluded   $_" }
                Write-Output "Defender: added $($missing.Count) of $($wanted.Count) FSLogix exclusions."
            }
        }
    }

    Write-Output "FSLogix configured; $($script:changes) change(s)."
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
