# iis: installs the IIS web server role with the requested role services, then makes the
# default site say less about itself: no Server and X-Powered-By response headers,
# optionally no IIS welcome page, and a static health page for load balancer probes.
#
# Idempotent: installed features are skipped, settings are compared before they are written,
# and the health page is rewritten with the same content.
# Exit codes: 0 done (a restart the role may ask for is left to a later restart step); 1 failed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$features = {{ps-list features}}
$removeDefaultContent = {{ps-bool removeDefaultContent}}
$healthPath = '{{healthPath}}'
$removeHeaders = {{ps-bool removeServerHeaders}}

try {
    if ($null -eq (Get-Command -Name 'Install-WindowsFeature' -ErrorAction SilentlyContinue)) {
        Write-Output 'Install-WindowsFeature is missing: this entry is for Windows Server.'
        exit 1
    }
    if ($healthPath -ne '' -and ($healthPath -match '\.\.' -or $healthPath -notmatch '^/?([A-Za-z0-9_.-]+/)*[A-Za-z0-9_-]+\.(html|htm|txt)$')) {
        Write-Output "healthPath '$healthPath' must be a path in the site ending in .html, .htm or .txt (static files IIS serves)."
        exit 1
    }

    # Role services: install what is missing, refuse names Windows does not know.
    $known = @(Get-WindowsFeature -Name $features)
    $unknown = @($features | Where-Object -FilterScript { @($known.Name) -notcontains $_ })
    if ($unknown.Count -gt 0) {
        Write-Output "Unknown features: $($unknown -join ', ') (Get-WindowsFeature -Name Web-* lists them)."
        exit 1
    }
    $missing = @($known | Where-Object -FilterScript { -not $_.Installed } | ForEach-Object -Process { $_.Name })
    if ($missing.Count -gt 0) {
        Write-Output "Installing: $($missing -join ', ')"
        $result = Install-WindowsFeature -Name $missing
        if (-not $result.Success) {
            Write-Output "Install-WindowsFeature failed (exit code $($result.ExitCode))."
            exit 1
        }
        if ([string]$result.RestartNeeded -ne 'No') {
            Write-Output 'Windows asks for a restart to finish the role installation; a later restart step completes it.'
        }
    } else {
        Write-Output "Already installed: $($features -join ', ')"
    }

    # IIS configuration through its own API (present with the role, unlike the PowerShell
    # modules, which come with Web-Scripting-Tools only).
    Add-Type -Path (Join-Path -Path $env:SystemRoot -ChildPath 'System32\inetsrv\Microsoft.Web.Administration.dll')
    $manager = New-Object -TypeName Microsoft.Web.Administration.ServerManager
    $config = $manager.GetApplicationHostConfiguration()
    $changed = $false

    if ($removeHeaders) {
        $filtering = $config.GetSection('system.webServer/security/requestFiltering')
        try {
            $serverHeaderRemoved = $filtering.GetAttributeValue('removeServerHeader')
        } catch {
            # As far as we know the setting came with IIS 10.0 version 1709 (Windows Server 2019);
            # Windows Server 2016's IIS does not know it.
            Write-Output 'This IIS has no removeServerHeader setting. Give removeServerHeaders: false.'
            exit 1
        }
        if (-not $serverHeaderRemoved) {
            $filtering.SetAttributeValue('removeServerHeader', $true)
            $changed = $true
            Write-Output 'Server header: removed.'
        }
        $headers = $config.GetSection('system.webServer/httpProtocol').GetCollection('customHeaders')
        $poweredBy = @($headers | Where-Object -FilterScript { $_.GetAttributeValue('name') -eq 'X-Powered-By' })
        for ($i = 0; $i -lt $poweredBy.Count; $i++) {
            $headers.Remove($poweredBy[$i])
            $changed = $true
            Write-Output 'X-Powered-By header: removed.'
        }
    }

    $site = $manager.Sites['Default Web Site']
    $root = $null
    if ($null -ne $site) {
        $root = [System.Environment]::ExpandEnvironmentVariables($site.Applications['/'].VirtualDirectories['/'].PhysicalPath)
    }

    if ($changed) {
        $manager.CommitChanges()
    }

    if ($removeDefaultContent -and $null -ne $root) {
        # The IIS welcome page: it tells every visitor which server software answers.
        $welcome = @('iisstart.htm', 'iisstart.png')
        for ($i = 0; $i -lt $welcome.Count; $i++) {
            $file = Join-Path -Path $root -ChildPath $welcome[$i]
            if (Test-Path -LiteralPath $file) {
                Remove-Item -LiteralPath $file -Force
                Write-Output "Removed $file"
            }
        }
    }

    if ($healthPath -ne '') {
        if ($null -eq $root) {
            Write-Output 'There is no Default Web Site for the health page.'
            exit 1
        }
        $page = Join-Path -Path $root -ChildPath ($healthPath.TrimStart('/').Replace('/', '\'))
        New-Item -Path (Split-Path -Path $page -Parent) -ItemType Directory -Force | Out-Null
        Set-Content -LiteralPath $page -Value 'ok' -Encoding ASCII
        Write-Output "Health page: $page (http://localhost/$($healthPath.TrimStart('/')))"
    }
    exit 0
} catch {
    Write-Output "iis failed: $($_.Exception.Message)"
    exit 1
}
