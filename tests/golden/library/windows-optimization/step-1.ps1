# Conservative virtual desktop optimisation, in the style of Microsoft's Virtual Desktop
# Optimization Tool (VDOT).
#
# Why: on a pooled, non-persistent VM, tasks and services that maintain a physical PC
# (defrag, system restore points, performance assessment, telemetry collectors, Xbox and
# maps services) only take CPU, disk and memory from the users sharing the host. Visual
# effects cost CPU to draw and bandwidth to send over RDP.
#
# What it does (each part from a parameter):
#   - disables the listed scheduled tasks and services (missing ones are skipped; a
#     disabled service stops at the next restart);
#   - reduceVisualEffects: machine policy HKLM\SOFTWARE\Policies\Microsoft\Windows\DWM
#     DisallowAnimations = 1 ("Do not allow window animations"), and in the default user
#     profile, which new profiles are copied from: MinAnimate "0", DragFullWindows "0",
#     TaskbarAnimations 0, ListviewAlphaSelect 0, ListviewShadow 0, EnableAeroPeek 0, and
#     VisualFXSetting 3 ("Custom" in Performance Options);
#   - disableBackgroundApps: machine policy HKLM\SOFTWARE\Policies\Microsoft\Windows\AppPrivacy
#     LetAppsRunInBackground = 2 ("Force Deny" for Store apps).
#
# Idempotent: only what differs is changed, and every change is listed at the end; a
# second run lists none.
# Exit codes: 0 done; 1 something could not be changed (each is listed) or a failure.
$ErrorActionPreference = 'Stop'

$scheduledTasks = @('\Microsoft\Windows\Defrag\ScheduledDefrag', '\Microsoft\Windows\Maintenance\WinSAT', '\Microsoft\Windows\Maps\MapsUpdateTask')
$services = @('MapsBroker', 'SysMain', 'XblAuthManager', 'XblGameSave')
$reduceVisualEffects = $true
$disableBackgroundApps = $false

$changed = New-Object -TypeName 'System.Collections.Generic.List[string]'
$failed = New-Object -TypeName 'System.Collections.Generic.List[string]'

# Writes a registry value only when it differs; records the change.
function Set-RegistryValue {
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [Parameter(Mandatory = $true)] [string] $Name,
        [object] $Value,
        [ValidateSet('DWord', 'String')] [string] $Type = 'DWord',
        [string] $Shown = $Path
    )
    if (-not (Test-Path -Path $Path)) {
        New-Item -Path $Path -Force | Out-Null
    }
    $key = Get-Item -Path $Path
    $current = $key.GetValue($Name, $null)
    $same = ($null -ne $current) -and ($key.GetValueKind($Name).ToString() -eq $Type) -and ("$current" -eq "$Value")
    $key.Close()
    if ($same) {
        Write-Output "  unchanged  $Shown\$Name = $Value"
        return
    }
    New-ItemProperty -Path $Path -Name $Name -Value $Value -PropertyType $Type -Force | Out-Null
    Write-Output "  set        $Shown\$Name = $Value"
    $changed.Add("registry $Shown\$Name = $Value")
}

$reg = Join-Path -Path $env:SystemRoot -ChildPath 'System32\reg.exe'
$hiveName = 'HKU\aibc-optimization-default'
$hiveRoot = 'Registry::HKEY_USERS\aibc-optimization-default'

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
    # Scheduled tasks.
    Write-Output "Scheduled tasks ($($scheduledTasks.Count)):"
    for ($i = 0; $i -lt $scheduledTasks.Count; $i++) {
        $full = $scheduledTasks[$i]
        $cut = $full.LastIndexOf('\')
        if (-not $full.StartsWith('\') -or $cut -eq $full.Length - 1) {
            Write-Output "  FAILED     $full is not a full task path such as \Microsoft\Windows\Defrag\ScheduledDefrag"
            $failed.Add("task $full (not a full task path)")
            continue
        }
        $taskPath = $full.Substring(0, $cut + 1)
        $taskName = $full.Substring($cut + 1)
        $task = Get-ScheduledTask -TaskPath $taskPath -TaskName $taskName -ErrorAction SilentlyContinue
        if ($null -eq $task) {
            Write-Output "  absent     $full"
            continue
        }
        if ($task.State -eq 'Disabled') {
            Write-Output "  unchanged  $full (disabled)"
            continue
        }
        try {
            Disable-ScheduledTask -TaskPath $taskPath -TaskName $taskName | Out-Null
            Write-Output "  disabled   $full (was $($task.State))"
            $changed.Add("task $full disabled")
        } catch {
            Write-Output "  FAILED     $full - $($_.Exception.Message)"
            $failed.Add("task $full")
        }
    }

    # Services.
    Write-Output "Services ($($services.Count)):"
    for ($i = 0; $i -lt $services.Count; $i++) {
        $name = $services[$i]
        $service = Get-Service -Name $name -ErrorAction SilentlyContinue
        if ($null -eq $service) {
            Write-Output "  absent     $name"
            continue
        }
        if ($service.StartType -eq 'Disabled') {
            Write-Output "  unchanged  $name (disabled)"
            continue
        }
        try {
            Set-Service -Name $name -StartupType Disabled
            Write-Output "  disabled   $name, $($service.DisplayName) (was $($service.StartType), $($service.Status))"
            $changed.Add("service $name disabled")
        } catch {
            Write-Output "  FAILED     $name - $($_.Exception.Message)"
            $failed.Add("service $name")
        }
    }

    if ($reduceVisualEffects) {
        Write-Output 'Visual effects:'
        Set-RegistryValue -Path 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\DWM' -Name 'DisallowAnimations' -Value 1
        $defaultProfile = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList').Default
        $ntuser = Join-Path -Path $defaultProfile -ChildPath 'NTUSER.DAT'
        if (-not (Test-Path -Path $hiveRoot)) {
            & $reg load $hiveName $ntuser | Out-Null
            if ($LASTEXITCODE -ne 0) {
                throw "reg load $hiveName $ntuser failed with $LASTEXITCODE."
            }
        }
        try {
            $shown = 'DefaultUser'
            Set-RegistryValue -Path "$hiveRoot\Control Panel\Desktop\WindowMetrics" -Name 'MinAnimate' -Value '0' -Type String -Shown "$shown\Control Panel\Desktop\WindowMetrics"
            Set-RegistryValue -Path "$hiveRoot\Control Panel\Desktop" -Name 'DragFullWindows' -Value '0' -Type String -Shown "$shown\Control Panel\Desktop"
            $advanced = 'Software\Microsoft\Windows\CurrentVersion\Explorer\Advanced'
            Set-RegistryValue -Path "$hiveRoot\$advanced" -Name 'TaskbarAnimations' -Value 0 -Shown "$shown\$advanced"
            Set-RegistryValue -Path "$hiveRoot\$advanced" -Name 'ListviewAlphaSelect' -Value 0 -Shown "$shown\$advanced"
            Set-RegistryValue -Path "$hiveRoot\$advanced" -Name 'ListviewShadow' -Value 0 -Shown "$shown\$advanced"
            Set-RegistryValue -Path "$hiveRoot\Software\Microsoft\Windows\DWM" -Name 'EnableAeroPeek' -Value 0 -Shown "$shown\Software\Microsoft\Windows\DWM"
            $effects = 'Software\Microsoft\Windows\CurrentVersion\Explorer\VisualEffects'
            Set-RegistryValue -Path "$hiveRoot\$effects" -Name 'VisualFXSetting' -Value 3 -Shown "$shown\$effects"
        } finally {
            Dismount-DefaultUserHive
        }
    }

    if ($disableBackgroundApps) {
        Write-Output 'Background apps:'
        Set-RegistryValue -Path 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\AppPrivacy' -Name 'LetAppsRunInBackground' -Value 2
    }

    if ($changed.Count -eq 0) {
        Write-Output 'Nothing to change: everything was optimised already.'
    } else {
        Write-Output "Changed $($changed.Count) setting(s):"
        $changed | ForEach-Object -Process { Write-Output "  - $_" }
    }
    if ($failed.Count -gt 0) {
        Write-Output "Could not change $($failed.Count): $($failed -join '; ')"
        exit 1
    }
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
