<#
.SYNOPSIS
    Removes what the build leaves behind, just before AIB runs Sysprep and captures.

.DESCRIPTION
    - superseded components (DISM component cleanup): the biggest saving after updates
    - the Windows Update download cache and the Delivery Optimization cache
    - temporary folders, build artifacts, the recycle bin
    - all event logs, so VMs start with logs of their own life only

    Files in use are skipped, not fatal: cleanup is best effort per item. Packer's own
    helper scripts in the temp folders are left alone; AIB still needs them.

    Exit codes: 0 done; 1 an unexpected error.
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

function Clear-FolderContent {
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [string[]] $Keep = @()
    )
    if (-not (Test-Path -Path $Path)) {
        return
    }
    $items = @(Get-ChildItem -Path $Path -Force -ErrorAction SilentlyContinue)
    $removed = 0
    foreach ($item in $items) {
        $keepThis = @($Keep | Where-Object { $item.Name -like $_ }).Count -gt 0
        if ($keepThis) {
            continue
        }
        Remove-Item -LiteralPath $item.FullName -Recurse -Force -ErrorAction SilentlyContinue
        if (-not (Test-Path -LiteralPath $item.FullName)) {
            $removed++
        }
    }
    Write-Output "Cleared $removed of $($items.Count) item(s) in $Path"
}

try {
    # Superseded components. /ResetBase makes installed updates permanent, which is
    # what an image wants; it can take a while.
    Write-Output 'DISM component cleanup'
    $dism = Start-Process -FilePath "$env:SystemRoot\System32\dism.exe" `
        -ArgumentList '/Online', '/Cleanup-Image', '/StartComponentCleanup', '/ResetBase', '/Quiet' `
        -Wait -PassThru -NoNewWindow
    if ($dism.ExitCode -ne 0) {
        # Usually "pending operations": the image is still fine, just larger.
        Write-Warning "DISM component cleanup exited with $($dism.ExitCode); continuing."
    }

    # The Windows Update download cache needs its services stopped.
    Stop-Service -Name 'wuauserv', 'bits' -Force
    Clear-FolderContent -Path "$env:SystemRoot\SoftwareDistribution\Download"
    if (Get-Command -Name 'Delete-DeliveryOptimizationCache' -ErrorAction SilentlyContinue) {
        Delete-DeliveryOptimizationCache -Force
    }

    # Packer (which AIB runs) keeps the running step's script and its output here.
    $packerFiles = @('script-*', 'packer-*')
    Clear-FolderContent -Path $env:TEMP -Keep $packerFiles
    Clear-FolderContent -Path "$env:SystemRoot\Temp" -Keep $packerFiles
    if (Test-Path -Path "$env:SystemDrive\BuildArtifacts") {
        Remove-Item -Path "$env:SystemDrive\BuildArtifacts" -Recurse -Force
    }
    Clear-RecycleBin -Force -ErrorAction SilentlyContinue

    # Crash dumps and error reports from the build are no use to anyone later.
    Clear-FolderContent -Path "$env:ProgramData\Microsoft\Windows\WER\ReportArchive"
    Clear-FolderContent -Path "$env:ProgramData\Microsoft\Windows\WER\ReportQueue"

    $session = [System.Diagnostics.Eventing.Reader.EventLogSession]::GlobalSession
    $cleared = 0
    foreach ($logName in $session.GetLogNames()) {
        try {
            $session.ClearLog($logName)
            $cleared++
        }
        catch {
            # Some analytic and debug logs cannot be cleared while enabled.
            continue
        }
    }
    Write-Output "Cleared $cleared event log(s)."
}
catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
