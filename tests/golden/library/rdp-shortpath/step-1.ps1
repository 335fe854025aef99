# RDP Shortpath for managed networks (Azure Virtual Desktop).
#
# Why: over a network with a direct path to the session host (site-to-site VPN,
# ExpressRoute, a private network), RDP can run over UDP straight to the host instead of
# through the reverse-connect gateway, with lower latency. The session host needs the UDP
# port listener turned on and its port open in Windows Firewall; the network path (NSG,
# firewalls) is up to you.
#
# What it sets, as Microsoft documents it:
#   HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations
#     fUseUdpPortRedirector = 1, UdpPortNumber = <port>
#   Firewall rule RemoteDesktop-UserMode-In-Shortpath-UDP: inbound UDP <port> for
#   TermService (svchost.exe), in the Remote Desktop group.
# The listener starts with the next start of the Remote Desktop service: on a host made
# from the image, at its first boot.
#
# Idempotent: values already right are left alone; an existing rule is updated in place.
# Exit codes: 0 done; 1 invalid parameters or a failure.
$ErrorActionPreference = 'Stop'

$port = 3390
$profiles = @('Domain', 'Private')

$ruleName = 'RemoteDesktop-UserMode-In-Shortpath-UDP'
$changes = 0

try {
    if ($port -lt 1 -or $port -gt 65535) {
        Write-Output "port must be between 1 and 65535, not $port."
        exit 1
    }
    $validProfiles = @('Domain', 'Private', 'Public')
    if ($profiles.Count -eq 0) {
        Write-Output 'firewallProfiles must name at least one profile (Domain, Private, Public).'
        exit 1
    }
    for ($i = 0; $i -lt $profiles.Count; $i++) {
        if ($validProfiles -notcontains $profiles[$i]) {
            Write-Output "'$($profiles[$i])' is not a firewall profile; use Domain, Private or Public."
            exit 1
        }
    }
    $profileText = ($profiles | Sort-Object -Unique) -join ', '

    # The UDP listener.
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations'
    $wanted = @(
        @{ Name = 'fUseUdpPortRedirector'; Value = 1 },
        @{ Name = 'UdpPortNumber'; Value = $port }
    )
    for ($i = 0; $i -lt $wanted.Count; $i++) {
        $name = $wanted[$i].Name
        $value = $wanted[$i].Value
        $item = Get-Item -Path $key
        $current = $item.GetValue($name, $null)
        if ($null -ne $current -and $item.GetValueKind($name) -eq 'DWord' -and $current -eq $value) {
            Write-Output "  unchanged  $key\$name = $value"
            continue
        }
        New-ItemProperty -Path $key -Name $name -Value $value -PropertyType DWord -Force | Out-Null
        Write-Output "  set        $key\$name = $value"
        $changes++
    }

    # The firewall rule.
    $rule = Get-NetFirewallRule -Name $ruleName -ErrorAction SilentlyContinue
    if ($null -eq $rule) {
        New-NetFirewallRule -Name $ruleName -DisplayName 'Remote Desktop - Shortpath (UDP-In)' `
            -Description "Inbound rule for the Remote Desktop service to allow RDP Shortpath traffic. [UDP $port]" `
            -Group '@FirewallAPI.dll,-28752' -Direction Inbound -Action Allow -Enabled True `
            -Profile ($profiles -join ',') -Service 'TermService' -Program '%SystemRoot%\system32\svchost.exe' `
            -Protocol UDP -LocalPort $port -PolicyStore PersistentStore | Out-Null
        Write-Output "  created    firewall rule $ruleName (UDP $port; profiles $profileText)"
        $changes++
    } else {
        $filter = $rule | Get-NetFirewallPortFilter
        $currentProfiles = (($rule.Profile.ToString() -split ',\s*') | Sort-Object -Unique) -join ', '
        $same = ($rule.Enabled.ToString() -eq 'True') -and ($rule.Action.ToString() -eq 'Allow') -and
            ($rule.Direction.ToString() -eq 'Inbound') -and ($filter.Protocol -eq 'UDP') -and
            ("$($filter.LocalPort)" -eq "$port") -and ($currentProfiles -eq $profileText)
        if ($same) {
            Write-Output "  unchanged  firewall rule $ruleName (UDP $port; profiles $profileText)"
        } else {
            Set-NetFirewallRule -Name $ruleName -Direction Inbound -Action Allow -Enabled True `
                -Profile ($profiles -join ',') -Protocol UDP -LocalPort $port
            Write-Output "  updated    firewall rule $ruleName (UDP $port; profiles $profileText; was $currentProfiles, port $($filter.LocalPort), enabled $($rule.Enabled))"
            $changes++
        }
    }
    Write-Output "RDP Shortpath for managed networks: UDP $port; $changes change(s)."
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
