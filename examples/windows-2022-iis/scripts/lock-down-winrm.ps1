<#
.SYNOPSIS
    Restricts inbound WinRM (TCP 5985 and 5986) to the management subnets.

.DESCRIPTION
    Copied into the image and run by the scheduled task \Contoso\LockDownWinRM at every
    start of a VM made from the image, as SYSTEM. Running at every start (not once)
    means a WinRM rule that someone or some agent opens up again is closed on the next
    boot.

    Every enabled inbound allow rule for the WinRM ports is limited to the management
    subnets, whatever its name: the built-in rules, and any rule added later.

    Writes a short log to C:\ProgramData\Contoso\ImageBaseline\lock-down-winrm.log.
    Exit codes: 0 done (also when there was nothing to change); 1 failed.
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# --- Edit for your environment: where administrators and automation connect from. ---
$managementSubnets = @('10.10.8.0/24')
# --------------------------------------------------------------------------------------

$winrmPorts = @('5985', '5986')
$log = Join-Path -Path $PSScriptRoot -ChildPath 'lock-down-winrm.log'

function Write-Log {
    param([Parameter(Mandatory = $true)] [string] $Message)
    $line = '{0:yyyy-MM-ddTHH:mm:ssK} {1}' -f (Get-Date), $Message
    Add-Content -Path $log -Value $line -Encoding UTF8
}

try {
    $rules = @(Get-NetFirewallPortFilter -Protocol TCP |
        Where-Object {
            $ports = @($_.LocalPort)
            @($ports | Where-Object { $winrmPorts -contains $_ }).Count -gt 0
        } |
        Get-NetFirewallRule |
        Where-Object { $_.Direction -eq 'Inbound' -and $_.Action -eq 'Allow' -and $_.Enabled -eq 'True' })

    foreach ($rule in $rules) {
        $current = @(($rule | Get-NetFirewallAddressFilter).RemoteAddress)
        $wanted = @($managementSubnets)
        if (($current -join ',') -ne ($wanted -join ',')) {
            Set-NetFirewallRule -Name $rule.Name -RemoteAddress $wanted
            Write-Log "Restricted '$($rule.Name)' from [$($current -join ', ')] to [$($wanted -join ', ')]"
        }
    }
    Write-Log "Checked $($rules.Count) WinRM rule(s)."
}
catch {
    Write-Log "FAILED: $($_.Exception.Message)"
    exit 1
}
exit 0
