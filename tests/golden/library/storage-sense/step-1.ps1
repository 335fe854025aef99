# Disables Storage Sense with its machine policies.
#
# Why: on a multi-session host Storage Sense runs in every user's session and cleans up
# (or dehydrates OneDrive files) inside profile containers, and its low-disk trigger
# reacts to the host's disk rather than the container's. Microsoft's AVD guidance is to
# turn it off on session hosts that use FSLogix.
#
# Policy values (Computer Configuration > Administrative Templates > System > Storage Sense),
# under HKLM\SOFTWARE\Policies\Microsoft\Windows\StorageSense:
#   AllowStorageSenseGlobal = 0                 "Allow Storage Sense": disabled
#   AllowStorageSenseTemporaryFilesCleanup = 0  "Allow Storage Sense Temporary Files cleanup": disabled
#
# Idempotent: values already set are left alone.
# Exit codes: 0 done; 1 failed.
$ErrorActionPreference = 'Stop'

try {
    $key = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\StorageSense'
    if (-not (Test-Path -Path $key)) {
        New-Item -Path $key -Force | Out-Null
    }
    $changes = 0
    $names = @('AllowStorageSenseGlobal', 'AllowStorageSenseTemporaryFilesCleanup')
    for ($i = 0; $i -lt $names.Count; $i++) {
        $name = $names[$i]
        $item = Get-Item -Path $key
        $current = $item.GetValue($name, $null)
        if ($null -ne $current -and $item.GetValueKind($name) -eq 'DWord' -and $current -eq 0) {
            Write-Output "  unchanged  $key\$name = 0"
            continue
        }
        New-ItemProperty -Path $key -Name $name -Value 0 -PropertyType DWord -Force | Out-Null
        Write-Output "  set        $key\$name = 0"
        $changes++
    }
    Write-Output "Storage Sense is disabled by policy; $changes change(s)."
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
