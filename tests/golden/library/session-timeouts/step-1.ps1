# Remote Desktop session time limits, set as machine policy.
#
# Why: on a pooled host every abandoned session keeps its memory, its profile container
# mounted and its licence; limits give the capacity back. The policies are under
# Administrative Templates > Windows Components > Remote Desktop Services > Remote Desktop
# Session Host > Session Time Limits, written to
# HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services:
#   MaxIdleTime           "Set time limit for active but idle ... sessions"  (milliseconds)
#   MaxDisconnectionTime  "Set time limit for disconnected sessions"         (milliseconds)
#   MaxConnectionTime     "Set time limit for active ... sessions"           (milliseconds)
#   fResetBroken          "End session when time limits are reached"         (1 end, 0 disconnect)
# 0 milliseconds is the policy's "Never". The values are written as DWORDs, so a limit
# can be at most 35791 minutes (about 24 days).
#
# Idempotent: values already right are left alone.
# Exit codes: 0 done; 1 a limit out of range, or a failure.
$ErrorActionPreference = 'Stop'

$idleMinutes = 60
$disconnectedMinutes = 120
$activeMinutes = 0
$logoffOnLimit = $false

function Format-Limit {
    param([int] $Minutes)
    if ($Minutes -eq 0) { return 'no limit' }
    return "$Minutes min"
}

try {
    $limits = @(
        @{ Name = 'MaxIdleTime'; Minutes = $idleMinutes; Parameter = 'idleMinutes' },
        @{ Name = 'MaxDisconnectionTime'; Minutes = $disconnectedMinutes; Parameter = 'disconnectedMinutes' },
        @{ Name = 'MaxConnectionTime'; Minutes = $activeMinutes; Parameter = 'activeMinutes' }
    )
    for ($i = 0; $i -lt $limits.Count; $i++) {
        $m = $limits[$i].Minutes
        if ($m -lt 0 -or $m -gt 35791) {
            Write-Output "$($limits[$i].Parameter) must be between 0 (no limit) and 35791 minutes, not $m."
            exit 1
        }
    }

    $key = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
    if (-not (Test-Path -Path $key)) {
        New-Item -Path $key -Force | Out-Null
    }
    $values = New-Object -TypeName 'System.Collections.Generic.List[object]'
    for ($i = 0; $i -lt $limits.Count; $i++) {
        $values.Add(@{ Name = $limits[$i].Name; Value = [int] ($limits[$i].Minutes * 60000); Shown = (Format-Limit $limits[$i].Minutes) })
    }
    if ($logoffOnLimit) {
        $values.Add(@{ Name = 'fResetBroken'; Value = 1; Shown = 'end the session' })
    } else {
        $values.Add(@{ Name = 'fResetBroken'; Value = 0; Shown = 'disconnect' })
    }

    $changes = 0
    for ($i = 0; $i -lt $values.Count; $i++) {
        $name = $values[$i].Name
        $value = $values[$i].Value
        $item = Get-Item -Path $key
        $current = $item.GetValue($name, $null)
        if ($null -ne $current -and $item.GetValueKind($name) -eq 'DWord' -and $current -eq $value) {
            Write-Output "  unchanged  $name = $value ($($values[$i].Shown))"
            continue
        }
        New-ItemProperty -Path $key -Name $name -Value $value -PropertyType DWord -Force | Out-Null
        Write-Output "  set        $name = $value ($($values[$i].Shown))"
        $changes++
    }
    Write-Output "Session time limits written to $key; $changes change(s)."
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
