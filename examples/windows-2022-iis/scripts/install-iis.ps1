<#
.SYNOPSIS
    Installs IIS 10 with the management tools and applies the web-server baseline.

.DESCRIPTION
    Safe to run again: features already present are skipped and every setting is
    written to its target value, not toggled.

    Exit codes: 0 done; 3010 done, a restart is needed to finish; 1 failed.
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

# Role services beyond Web-Server's defaults (static content, default document,
# HTTP errors, HTTP logging, request filtering, static compression, IIS Manager).
$features = @(
    'Web-Server'
    'Web-Http-Redirect'
    'Web-Request-Monitor'
    'Web-Http-Tracing'        # failed-request tracing, for troubleshooting in production
    'Web-Dyn-Compression'
    'Web-Windows-Auth'
    'Web-Net-Ext45'
    'Web-Asp-Net45'
    'Web-ISAPI-Ext'
    'Web-ISAPI-Filter'
    'Web-Mgmt-Console'        # IIS Manager
    'Web-Scripting-Tools'     # WebAdministration and IISAdministration modules
)

function Set-RegistryDword {
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [Parameter(Mandatory = $true)] [string] $Name,
        [Parameter(Mandatory = $true)] [int] $Value
    )
    # Returns $true when the value had to change.
    if (-not (Test-Path -Path $Path)) {
        New-Item -Path $Path -Force | Out-Null
    }
    $current = Get-ItemProperty -Path $Path -Name $Name -ErrorAction SilentlyContinue
    if ($null -ne $current -and $current.$Name -eq $Value) {
        return $false
    }
    New-ItemProperty -Path $Path -Name $Name -Value $Value -PropertyType DWord -Force | Out-Null
    return $true
}

$restartNeeded = $false
try {
    $missing = @(Get-WindowsFeature -Name $features |
        Where-Object { -not $_.Installed } |
        Select-Object -ExpandProperty Name)
    if ($missing.Count -gt 0) {
        Write-Output "Installing: $($missing -join ', ')"
        $result = Install-WindowsFeature -Name $missing -IncludeManagementTools
        if (-not $result.Success) {
            throw "Install-WindowsFeature failed with exit code $($result.ExitCode)."
        }
        if ($result.RestartNeeded -ne 'No') {
            $restartNeeded = $true
        }
    }
    else {
        Write-Output 'IIS features are already installed.'
    }

    Import-Module -Name WebAdministration
    $appHost = 'MACHINE/WEBROOT/APPHOST'

    # Say as little as possible about the server software.
    Set-WebConfigurationProperty -PSPath $appHost -Filter 'system.webServer/security/requestFiltering' -Name 'removeServerHeader' -Value $true
    Set-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT' -Filter 'system.web/httpRuntime' -Name 'enableVersionHeader' -Value $false
    $poweredBy = Get-WebConfiguration -PSPath $appHost -Filter "system.webServer/httpProtocol/customHeaders/add[@name='X-Powered-By']"
    if ($null -ne $poweredBy) {
        Remove-WebConfigurationProperty -PSPath $appHost -Filter 'system.webServer/httpProtocol/customHeaders' -Name '.' -AtElement @{ name = 'X-Powered-By' }
    }
    Set-WebConfigurationProperty -PSPath $appHost -Filter 'system.webServer/directoryBrowse' -Name 'enabled' -Value $false

    # A static page for load balancer health probes (and the image's smoke test).
    $wwwroot = Join-Path -Path $env:SystemDrive -ChildPath 'inetpub\wwwroot'
    Set-Content -Path (Join-Path -Path $wwwroot -ChildPath 'healthz.html') -Value 'ok' -Encoding ASCII

    # TLS 1.0 and 1.1 are still enabled by default on Server 2022; web servers should not offer them.
    $protocols = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols'
    foreach ($protocol in @('TLS 1.0', 'TLS 1.1')) {
        $key = Join-Path -Path $protocols -ChildPath "$protocol\Server"
        $changed = Set-RegistryDword -Path $key -Name 'Enabled' -Value 0
        $changed = (Set-RegistryDword -Path $key -Name 'DisabledByDefault' -Value 1) -or $changed
        if ($changed) {
            Write-Output "Disabled $protocol for the server side of Schannel."
            $restartNeeded = $true
        }
    }
}
catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}

if ($restartNeeded) {
    Write-Output 'Finished; Windows needs a restart to complete the changes (exit 3010).'
    exit 3010
}
Write-Output 'Finished; no restart needed.'
exit 0
