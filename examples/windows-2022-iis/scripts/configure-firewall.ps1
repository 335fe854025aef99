<#
.SYNOPSIS
    Opens HTTP (80) and HTTPS (443) to everyone in Windows Firewall.

.DESCRIPTION
    The rules get fixed names (not display names, which change with the language pack),
    so running the script again updates them in place instead of adding duplicates.

    WinRM and RDP are not touched here: the firewall-lockdown library entry limits them to
    the management subnet (WinRM only on VMs made from the image, since AIB drives the
    build VM over WinRM).

    Exit codes: 0 done; 1 failed.
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$group = 'Contoso web server'
$rules = @(
    @{ Name = 'Contoso-Web-HTTP-In';  DisplayName = 'Contoso web server: HTTP (TCP 80) in';   Port = 80 }
    @{ Name = 'Contoso-Web-HTTPS-In'; DisplayName = 'Contoso web server: HTTPS (TCP 443) in'; Port = 443 }
)

try {
    foreach ($rule in $rules) {
        $existing = Get-NetFirewallRule -Name $rule.Name -ErrorAction SilentlyContinue
        if ($null -eq $existing) {
            New-NetFirewallRule -Name $rule.Name -DisplayName $rule.DisplayName -Group $group `
                -Direction Inbound -Action Allow -Protocol TCP -LocalPort $rule.Port `
                -RemoteAddress Any -Profile Any | Out-Null
            Write-Output "Created $($rule.Name)"
        }
        else {
            Set-NetFirewallRule -Name $rule.Name -Enabled True -Direction Inbound -Action Allow `
                -Protocol TCP -LocalPort $rule.Port -RemoteAddress Any -Profile Any
            Write-Output "Updated $($rule.Name)"
        }
    }

    # The firewall must be on for the rules to mean anything.
    Set-NetFirewallProfile -Profile Domain, Private, Public -Enabled True -DefaultInboundAction Block
}
catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
