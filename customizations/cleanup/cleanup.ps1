# cleanup: removes what the build leaves behind, just before AIB generalises (Sysprep) and
# captures the image, so the image is smaller and VMs start without the build's traces:
# temporary files, the Windows Update download cache, the Delivery Optimization cache, the
# Recycle Bin, folders you name, all event logs, and optionally superseded components.
#
# Best effort per item: a file in use is skipped, not fatal. Packer's own files in the temp
# folders (script-*, packer-*) stay; AIB is still running the step that uses them.
# Idempotent: a second run finds less or nothing to remove.
# Exit codes: 0 done; 1 an unexpected error.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$componentCleanup = {{ps-bool componentCleanup}}
$eventLogs = {{ps-bool eventLogs}}
$paths = {{ps-list paths}}

function Get-FreeBytes {
    $disk = Get-CimInstance -ClassName Win32_LogicalDisk -Filter "DeviceID='$env:SystemDrive'"
    return [int64]$disk.FreeSpace
}

# Deletes what a folder holds (the folder stays), except names matching $Keep.
function Clear-Folder {
    param([string] $Path, [string[]] $Keep = @())
    if (-not (Test-Path -LiteralPath $Path -PathType Container)) {
        Write-Output "$($Path): not there"
        return
    }
    $items = @(Get-ChildItem -LiteralPath $Path -Force -ErrorAction SilentlyContinue)
    $removed = 0
    for ($i = 0; $i -lt $items.Count; $i++) {
        $item = $items[$i]
        $kept = @($Keep | Where-Object -FilterScript { $item.Name -like $_ }).Count -gt 0
        if ($kept) {
            continue
        }
        Remove-Item -LiteralPath $item.FullName -Recurse -Force -ErrorAction SilentlyContinue
        if (-not (Test-Path -LiteralPath $item.FullName)) {
            $removed++
        }
    }
    Write-Output "$($Path): removed $removed of $($items.Count) item(s)"
}

try {
    $freeBefore = Get-FreeBytes

    if ($componentCleanup) {
        # Superseded components of installed updates: the largest saving after Windows Update,
        # and slow (often 10 to 30 minutes). /ResetBase makes the installed updates permanent,
        # which suits an image.
        Write-Output 'DISM component cleanup (/StartComponentCleanup /ResetBase); this takes a while'
        $dism = Start-Process -FilePath (Join-Path -Path $env:SystemRoot -ChildPath 'System32\dism.exe') `
            -ArgumentList '/Online', '/Cleanup-Image', '/StartComponentCleanup', '/ResetBase', '/Quiet', '/NoRestart' `
            -Wait -PassThru
        if ($dism.ExitCode -ne 0) {
            # Typically pending servicing operations: the image is fine, only larger.
            Write-Output "DISM component cleanup exited with $($dism.ExitCode); continuing."
        }
    }

    # The Windows Update download cache, with the update service stopped while it is emptied.
    $wu = Get-Service -Name 'wuauserv'
    $wasRunning = $wu.Status -eq 'Running'
    if ($wasRunning) {
        Stop-Service -Name 'wuauserv' -Force
    }
    Clear-Folder -Path (Join-Path -Path $env:SystemRoot -ChildPath 'SoftwareDistribution\Download')
    if ($wasRunning) {
        Start-Service -Name 'wuauserv'
    }

    # The cmdlet exists on Windows 10 1809 / Server 2019 and later.
    if ($null -ne (Get-Command -Name 'Delete-DeliveryOptimizationCache' -ErrorAction SilentlyContinue)) {
        try {
            Delete-DeliveryOptimizationCache -Force
            Write-Output 'Delivery Optimization cache: emptied'
        } catch {
            Write-Output "Delivery Optimization cache: not emptied ($($_.Exception.Message))"
        }
    }

    $packer = @('script-*', 'packer-*')
    Clear-Folder -Path $env:TEMP -Keep $packer
    Clear-Folder -Path (Join-Path -Path $env:SystemRoot -ChildPath 'Temp') -Keep $packer
    for ($i = 0; $i -lt $paths.Count; $i++) {
        Clear-Folder -Path ([System.Environment]::ExpandEnvironmentVariables($paths[$i]))
    }

    # The Recycle Bin of every fixed drive: one folder per user, recreated when needed.
    $drives = @(Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType=3')
    for ($i = 0; $i -lt $drives.Count; $i++) {
        Clear-Folder -Path ($drives[$i].DeviceID + '\$Recycle.Bin')
    }

    if ($eventLogs) {
        $session = [System.Diagnostics.Eventing.Reader.EventLogSession]::GlobalSession
        $names = @($session.GetLogNames())
        $cleared = 0
        for ($i = 0; $i -lt $names.Count; $i++) {
            try {
                $session.ClearLog($names[$i])
                $cleared++
            } catch {
                # Some analytic and debug logs cannot be cleared while they are enabled.
                $null = $_
            }
        }
        Write-Output "Event logs: cleared $cleared of $($names.Count)"
    }

    $freed = (Get-FreeBytes) - $freeBefore
    Write-Output ('Free space on {0} grew by {1:N0} MB.' -f $env:SystemDrive, ($freed / 1048576))
    exit 0
} catch {
    Write-Output "cleanup failed: $($_.Exception.Message)"
    exit 1
}
