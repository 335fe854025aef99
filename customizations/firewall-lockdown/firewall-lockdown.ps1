# firewall-lockdown: limits inbound Remote Desktop (3389) and WinRM (5985, 5986) in Windows
# Firewall to the management networks; every other rule and the profiles' defaults stay.
#
# Why a scheduled task: Azure Image Builder drives the build VM over WinRM until the image is
# captured, so restricting WinRM during the build would cut the build off. This step installs
# a script and a scheduled task (\aibc\firewall-lockdown, as SYSTEM, at every start and every
# 15 minutes) that restricts the rules on VMs made from the image; the repetition also closes
# a rule someone opens up again. The script recognises the build VM by its computer name (VMs
# made from the image get their own) and there restricts RDP only, which it does right away
# when this step runs.
#
# What "restrict" means: every enabled inbound allow rule whose TCP/UDP local ports include one
# of those ports (the built-in rules, and any added later) gets the management networks as
# its remote addresses. Rules are not created, so closed ports stay closed.
#
# Idempotent: files and the task are rewritten with the same content; rules already limited
# to the networks are left as they are.
# Exit codes: 0 done; 1 failed.
$ErrorActionPreference = 'Stop'

$addresses = {{ps-list managementCidrs}}
$rdp = {{ps-bool rdp}}
$winrm = {{ps-bool winrm}}
$folder = Join-Path -Path $env:ProgramData -ChildPath 'aibc\firewall-lockdown'

# The script the task runs (written as it is; its settings are in config.json beside it).
$lockdown = @'
# Written by the aibc entry firewall-lockdown. Run at every start and every 15 minutes by the
# scheduled task \aibc\firewall-lockdown: limits every enabled inbound allow rule for the
# ports in config.json to its management networks. On the build VM (its computer name is in
# the config) only the RDP ports: Azure Image Builder needs WinRM until the image is captured.
# Changes and failures are logged to lockdown.log beside this script.
# Exit codes: 0 done; 1 failed.
$ErrorActionPreference = 'Stop'
$here = Split-Path -Path $MyInvocation.MyCommand.Path -Parent
$log = Join-Path -Path $here -ChildPath 'lockdown.log'

function Write-Log {
    param([string] $Message)
    $line = '{0:yyyy-MM-ddTHH:mm:ssK} {1}' -f (Get-Date), $Message
    Add-Content -LiteralPath $log -Value $line -Encoding UTF8
    Write-Output $line
}

function Test-Port {
    param([string[]] $LocalPorts, [int[]] $Ports)
    for ($i = 0; $i -lt $LocalPorts.Count; $i++) {
        $p = $LocalPorts[$i]
        for ($j = 0; $j -lt $Ports.Count; $j++) {
            if ($p -match '^\d+$' -and [int]$p -eq $Ports[$j]) { return $true }
            if ($p -match '^(\d+)-(\d+)$' -and [int]$Matches[1] -le $Ports[$j] -and $Ports[$j] -le [int]$Matches[2]) { return $true }
        }
    }
    return $false
}

# The firewall shows 10.0.0.0/24 as 10.0.0.0/255.255.255.0 and 10.0.0.5/32 as 10.0.0.5.
function ConvertTo-FirewallForm {
    param([string] $Address)
    if ($Address -match '^(\d{1,3}(\.\d{1,3}){3})/(\d{1,2})$') {
        $bits = [int]$Matches[3]
        if ($bits -eq 32) { return $Matches[1] }
        $mask = [int64]4294967295 - ([int64][math]::Pow(2, 32 - $bits) - 1)
        $octets = @(24, 16, 8, 0) | ForEach-Object -Process { ($mask -shr $_) -band 255 }
        return $Matches[1] + '/' + ($octets -join '.')
    }
    return $Address
}

try {
    $config = Get-Content -LiteralPath (Join-Path -Path $here -ChildPath 'config.json') -Raw | ConvertFrom-Json
    $wanted = @($config.addresses)
    $ports = @($config.rdpPorts)
    if ($env:COMPUTERNAME -eq $config.buildComputerName) {
        Write-Output 'On the build VM: WinRM stays open for Azure Image Builder.'
    } else {
        $ports += @($config.winrmPorts)
    }
    $ports = @($ports | ForEach-Object -Process { [int]$_ })
    $held = @(@($config.winrmPorts) | ForEach-Object -Process { [int]$_ } | Where-Object -FilterScript { $ports -notcontains $_ })
    if ($ports.Count -eq 0) {
        Write-Output 'No ports to restrict.'
        exit 0
    }
    $normalWanted = @($wanted | ForEach-Object -Process { (ConvertTo-FirewallForm -Address $_).ToLowerInvariant() } | Sort-Object)

    $filters = @(Get-NetFirewallPortFilter -All | Where-Object -FilterScript {
        ($_.Protocol -eq 'TCP' -or $_.Protocol -eq 'UDP') -and (Test-Port -LocalPorts @($_.LocalPort) -Ports $ports)
    })
    $rules = @($filters | Get-NetFirewallRule | Where-Object -FilterScript {
        $_.Direction -eq 'Inbound' -and $_.Action -eq 'Allow' -and $_.Enabled -eq 'True'
    })
    $changed = 0
    for ($i = 0; $i -lt $rules.Count; $i++) {
        $rule = $rules[$i]
        if ($held.Count -gt 0) {
            $rulePorts = @(($rule | Get-NetFirewallPortFilter).LocalPort)
            if (Test-Port -LocalPorts $rulePorts -Ports $held) {
                Write-Output "Skipped '$($rule.Name)': it also opens a WinRM port, which stays open on the build VM."
                continue
            }
        }
        $current = @(($rule | Get-NetFirewallAddressFilter).RemoteAddress)
        $normalCurrent = @($current | ForEach-Object -Process { ([string]$_).ToLowerInvariant() } | Sort-Object)
        if (($normalCurrent -join ',') -ne ($normalWanted -join ',')) {
            $rule | Set-NetFirewallRule -RemoteAddress $wanted
            Write-Log "Restricted '$($rule.Name)' ($($rule.DisplayName)) from [$($current -join ', ')] to [$($wanted -join ', ')]."
            $changed++
        }
    }
    Write-Output "Checked $($rules.Count) rule(s) for port(s) $($ports -join ', '); changed $changed."
    $off = @(Get-NetFirewallProfile | Where-Object -FilterScript { $_.Enabled -ne 'True' } | ForEach-Object -Process { $_.Name })
    if ($off.Count -gt 0) {
        Write-Output "Warning: the firewall is off for the $($off -join ', ') profile(s); its rules do not apply there."
    }
    exit 0
} catch {
    Write-Log "FAILED: $($_.Exception.Message)"
    exit 1
}
'@

# Runs a program and passes its output on; the exit code is in $LASTEXITCODE. Inside, error
# output is not turned into a terminating error (Windows PowerShell does that to a native
# program's standard error under $ErrorActionPreference = 'Stop').
function Invoke-Program {
    param([string] $FilePath, [string[]] $ArgumentList)
    $ErrorActionPreference = 'Continue'
    & $FilePath @ArgumentList 2>&1 | ForEach-Object -Process { [string]$_ }
}

function Test-Address {
    param([string] $Value)
    $keywords = @('LocalSubnet', 'DNS', 'DHCP', 'WINS', 'DefaultGateway', 'Internet', 'Intranet', 'IntranetRemoteAccess', 'PlayToDevice')
    if ($keywords -contains $Value) { return $true }
    $range = $Value -split '-'
    if ($range.Count -eq 2) { return (Test-IP -Value $range[0]) -and (Test-IP -Value $range[1]) }
    $parts = $Value -split '/'
    if ($parts.Count -gt 2 -or -not (Test-IP -Value $parts[0])) { return $false }
    if ($parts.Count -eq 1) { return $true }
    if ($parts[1] -match '^\d{1,3}$') {
        $max = if ($parts[0].Contains(':')) { 128 } else { 32 }
        return [int]$parts[1] -le $max
    }
    return Test-IP -Value $parts[1]
}

function Test-IP {
    param([string] $Value)
    if ($Value -notmatch '^\d{1,3}(\.\d{1,3}){3}$' -and -not $Value.Contains(':')) { return $false }
    $ip = $null
    return [System.Net.IPAddress]::TryParse($Value, [ref] $ip)
}

try {
    if ($addresses.Count -eq 0) {
        Write-Output 'managementCidrs is empty: that would allow no one; give at least one network.'
        exit 1
    }
    for ($i = 0; $i -lt $addresses.Count; $i++) {
        if ($addresses[$i] -eq 'Any' -or -not (Test-Address -Value $addresses[$i])) {
            Write-Output "'$($addresses[$i])' is not an address, network (CIDR or mask), range or firewall keyword such as LocalSubnet."
            exit 1
        }
    }
    if (-not $rdp -and -not $winrm) {
        Write-Output 'Neither rdp nor winrm is set: nothing to restrict.'
        exit 0
    }

    New-Item -Path $folder -ItemType Directory -Force | Out-Null
    # Only administrators and SYSTEM may change what a SYSTEM task runs (by SID: names are localised).
    $icacls = @(Invoke-Program -FilePath "$env:SystemRoot\System32\icacls.exe" -ArgumentList @($folder, '/inheritance:r', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '*S-1-5-18:(OI)(CI)F'))
    if ($LASTEXITCODE -ne 0) {
        Write-Output "icacls failed with exit code $($LASTEXITCODE): $($icacls -join ' ')"
        exit 1
    }
    $script = Join-Path -Path $folder -ChildPath 'lockdown.ps1'
    Set-Content -LiteralPath $script -Value $lockdown -Encoding UTF8
    $config = [ordered]@{
        addresses         = @($addresses)
        rdpPorts          = @(if ($rdp) { 3389 })
        winrmPorts        = @(if ($winrm) { 5985; 5986 })
        buildComputerName = $env:COMPUTERNAME
    }
    Set-Content -LiteralPath (Join-Path -Path $folder -ChildPath 'config.json') -Value ($config | ConvertTo-Json) -Encoding UTF8
    Write-Output "Wrote $script and config.json (networks: $($addresses -join ', '))."

    $powershell = Join-Path -Path $env:SystemRoot -ChildPath 'System32\WindowsPowerShell\v1.0\powershell.exe'
    $action = New-ScheduledTaskAction -Execute $powershell -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `"$script`""
    $atStartup = New-ScheduledTaskTrigger -AtStartup
    # Every 15 minutes, all day, every day (a daily trigger that repeats).
    $repeating = New-ScheduledTaskTrigger -Daily -At '00:00'
    $repeating.Repetition = (New-ScheduledTaskTrigger -Once -At '00:00' -RepetitionInterval (New-TimeSpan -Minutes 15) -RepetitionDuration (New-TimeSpan -Days 1)).Repetition
    $principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
    $settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Minutes 10) -StartWhenAvailable
    Register-ScheduledTask -TaskPath '\aibc\' -TaskName 'firewall-lockdown' -Action $action -Trigger @($atStartup, $repeating) -Principal $principal -Settings $settings -Force | Out-Null
    Write-Output 'Registered the startup task \aibc\firewall-lockdown.'

    # Now, on the build VM: RDP only (the script holds WinRM back here).
    Invoke-Program -FilePath $powershell -ArgumentList @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', $script)
    if ($LASTEXITCODE -ne 0) {
        Write-Output "The lockdown script failed (exit code $LASTEXITCODE)."
        exit 1
    }
    exit 0
} catch {
    Write-Output "firewall-lockdown failed: $($_.Exception.Message)"
    exit 1
}
