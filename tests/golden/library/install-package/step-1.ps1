# install-package: installs packages machine-wide with Chocolatey (installed first when it is
# missing) or winget, so an image gets its tools from a package feed instead of pasted
# download-and-install scripts.
#
# winget comes with App Installer, an app package registered per user: Windows Server 2022
# and earlier do not ship it, and a step running as SYSTEM or in a WinRM session has no winget
# on PATH even where it is installed. The script then calls winget.exe from the App Installer
# folder directly; when there is none, it stops with an error instead of switching managers
# (package IDs differ between the two).
#
# Idempotent: packages already installed are skipped (Chocolatey and winget both check).
# Exit codes: 0 done (also when an installer asked for a restart, which is reported); 1 failed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$manager = 'chocolatey'
$packages = @('git', '7zip@23.1.0', 'notepadplusplus.install')
$source = ''

# Runs a program and passes its output on; the exit code is in $LASTEXITCODE. Inside, error
# output is not turned into a terminating error (Windows PowerShell does that to a native
# program's standard error under $ErrorActionPreference = 'Stop').
function Invoke-Program {
    param([string] $FilePath, [string[]] $ArgumentList)
    $ErrorActionPreference = 'Continue'
    & $FilePath @ArgumentList 2>&1 | ForEach-Object -Process { [string]$_ }
}

function Find-Winget {
    $onPath = Get-Command -Name 'winget.exe' -CommandType Application -ErrorAction SilentlyContinue
    if ($null -ne $onPath) {
        return @($onPath)[0].Source
    }
    $appsRoot = Join-Path -Path $env:ProgramFiles -ChildPath 'WindowsApps'
    $candidates = @(Get-ChildItem -LiteralPath $appsRoot -Directory -Filter 'Microsoft.DesktopAppInstaller_*__8wekyb3d8bbwe' -ErrorAction SilentlyContinue)
    $best = $null
    $bestVersion = [version]'0.0'
    for ($i = 0; $i -lt $candidates.Count; $i++) {
        $exe = Join-Path -Path $candidates[$i].FullName -ChildPath 'winget.exe'
        $version = [version]'0.0'
        if ((Test-Path -LiteralPath $exe) -and [version]::TryParse($candidates[$i].Name.Split('_')[1], [ref] $version) -and $version -gt $bestVersion) {
            $best = $exe
            $bestVersion = $version
        }
    }
    return $best
}

try {
    if (@('winget', 'chocolatey') -notcontains $manager) {
        Write-Output "manager must be winget or chocolatey, not '$manager'."
        exit 1
    }
    if ($source -ne '' -and $source -notmatch '^[^\s"-][^\s"]*$') {
        Write-Output "source '$source' must be one word (a feed URL or source name)."
        exit 1
    }
    # ID, or ID@VERSION. IDs and versions are single words, so none can pass an option.
    $wanted = @()
    for ($i = 0; $i -lt $packages.Count; $i++) {
        if ($packages[$i] -notmatch '^([A-Za-z0-9][A-Za-z0-9._+-]*)(@([A-Za-z0-9][A-Za-z0-9._+-]*))?$') {
            Write-Output "'$($packages[$i])' is not a package ID, optionally with @VERSION."
            exit 1
        }
        $wanted += New-Object -TypeName PSObject -Property @{ Id = $Matches[1]; Version = $Matches[3] }
    }
    $restart = $false

    if ($manager -eq 'chocolatey') {
        $chocoRoot = if ($env:ChocolateyInstall) { $env:ChocolateyInstall } else { Join-Path -Path $env:ProgramData -ChildPath 'chocolatey' }
        $choco = Join-Path -Path $chocoRoot -ChildPath 'bin\choco.exe'
        if (-not (Test-Path -LiteralPath $choco)) {
            # Chocolatey's documented installer, run in its own PowerShell.
            Write-Output 'Installing Chocolatey from community.chocolatey.org'
            [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
            $installer = Join-Path -Path $env:TEMP -ChildPath 'chocolatey-install.ps1'
            Invoke-WebRequest -Uri 'https://community.chocolatey.org/install.ps1' -OutFile $installer -UseBasicParsing
            Invoke-Program -FilePath "$env:SystemRoot\System32\WindowsPowerShell\v1.0\powershell.exe" -ArgumentList @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', $installer)
            $code = $LASTEXITCODE
            Remove-Item -LiteralPath $installer -Force
            if ($code -ne 0 -or -not (Test-Path -LiteralPath $choco)) {
                Write-Output "Installing Chocolatey failed (exit code $code)."
                exit 1
            }
        }
        for ($i = 0; $i -lt $wanted.Count; $i++) {
            $arguments = @('install', $wanted[$i].Id, '--yes', '--no-progress')
            if ($wanted[$i].Version) { $arguments += @('--version', $wanted[$i].Version) }
            if ($source -ne '') { $arguments += @('--source', $source) }
            Write-Output "choco $($arguments -join ' ')"
            Invoke-Program -FilePath $choco -ArgumentList $arguments
            $code = $LASTEXITCODE
            if ($code -eq 3010 -or $code -eq 1641) {
                $restart = $true
            } elseif ($code -ne 0) {
                Write-Output "choco failed for $($wanted[$i].Id) with exit code $code."
                exit 1
            }
        }
    } else {
        $winget = Find-Winget
        if ($null -eq $winget) {
            Write-Output 'winget is not available on this image (Windows Server 2022 and earlier do not ship App Installer, and it is not provisioned here). Use manager: chocolatey, or install-artifact.'
            exit 1
        }
        Write-Output "Using $winget"
        for ($i = 0; $i -lt $wanted.Count; $i++) {
            $id = $wanted[$i].Id
            Invoke-Program -FilePath $winget -ArgumentList @('list', '--id', $id, '--exact', '--accept-source-agreements') | Out-Null
            if ($LASTEXITCODE -eq 0) {
                $note = if ($wanted[$i].Version) { " (the installed version is not compared with $($wanted[$i].Version))" } else { '' }
                Write-Output "$id is installed already$note."
                continue
            }
            $arguments = @('install', '--id', $id, '--exact', '--silent', '--scope', 'machine', '--accept-package-agreements', '--accept-source-agreements')
            if ($wanted[$i].Version) { $arguments += @('--version', $wanted[$i].Version) }
            if ($source -ne '') { $arguments += @('--source', $source) }
            Write-Output "winget $($arguments -join ' ')"
            $output = @(Invoke-Program -FilePath $winget -ArgumentList $arguments)
            $code = $LASTEXITCODE
            # 0x8A15002B: no applicable update; 0x8A150061: a version is installed already.
            if ($code -ne 0 -and $code -ne -1978335189 -and $code -ne -1978335135) {
                $output | Write-Output
                $hint = if ($code -eq -1978335216) { ' No installer for machine scope on this system (0x8A150010).' } else { '' }
                Write-Output "winget failed for $id with exit code $code.$hint"
                exit 1
            }
        }
    }

    if ($restart) {
        Write-Output 'An installer asked for a restart: add a restart step (use: restart) before anything that needs it.'
    }
    Write-Output "Installed with $($manager): $(($wanted | ForEach-Object -Process { $_.Id }) -join ', ')"
    exit 0
} catch {
    Write-Output "install-package failed: $($_.Exception.Message)"
    exit 1
}
