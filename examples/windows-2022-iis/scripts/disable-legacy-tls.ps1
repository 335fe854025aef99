<#
.SYNOPSIS
    Turns off TLS 1.0 and 1.1 for the server side of Schannel (what IIS offers to clients).

.DESCRIPTION
    Windows Server 2022 still enables both by default. The change takes effect at the next
    restart; the language-pack entry, which follows, restarts Windows.

    Safe to run again: each registry value is written only when it differs.
    Exit codes: 0 done; 1 failed.
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$protocols = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols'
$wanted = [ordered]@{ Enabled = 0; DisabledByDefault = 1 }

try {
    foreach ($protocol in @('TLS 1.0', 'TLS 1.1')) {
        $key = Join-Path -Path $protocols -ChildPath "$protocol\Server"
        if (-not (Test-Path -Path $key)) {
            New-Item -Path $key -Force | Out-Null
        }
        foreach ($name in $wanted.Keys) {
            $current = Get-ItemProperty -Path $key -Name $name -ErrorAction SilentlyContinue
            if ($null -eq $current -or $current.$name -ne $wanted[$name]) {
                New-ItemProperty -Path $key -Name $name -Value $wanted[$name] -PropertyType DWord -Force | Out-Null
                Write-Output "$protocol server: $name = $($wanted[$name])"
            }
        }
    }
}
catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
