# language-pack, step 1: installs Windows display languages.
#
# Why two ways: Install-Language (LanguagePackManagement module) fetches a language and its
# Features on Demand from Windows Update, but Microsoft supports it on client Windows only.
# Windows Server (and any build that gives `source`) adds the language pack .cab with DISM
# (Add-WindowsPackage), then the language's Features on Demand from Windows Update.
# The restart that completes the installation is the entry's next step.
#
# Idempotent: a language Windows already lists among its UI languages is skipped.
# Exit codes: 0 done; 1 failed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$languages = {{ps-list languages}}
$default = '{{default}}'
$source = '{{source}}'
$checksums = {{ps-list sha256}}
$features = {{ps-bool features}}
$workDir = Join-Path -Path $env:SystemDrive -ChildPath 'BuildArtifacts\language-pack'

function Test-ClientWindows {
    # InstallationType is Client on Windows 10/11, including Enterprise multi-session.
    $info = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction SilentlyContinue
    if ($null -ne $info -and $null -ne $info.PSObject.Properties['InstallationType']) {
        return $info.InstallationType -eq 'Client'
    }
    return (Get-CimInstance -ClassName Win32_OperatingSystem).ProductType -eq 1
}

function Get-UILanguage {
    return @((Get-CimInstance -ClassName Win32_OperatingSystem).MUILanguages)
}

function Save-Download {
    param([string] $Uri, [string] $Path)
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
    $headers = @{}
    $target = [System.Uri] $Uri
    # A private blob is read as the build VM's identity (build.vmIdentities, with Storage
    # Blob Data Reader on the container), so no key or SAS lands in the template. With
    # several identities on the VM the metadata service cannot choose one: give a SAS URL.
    if ($target.Host -like '*.blob.core.windows.net' -and $target.Query -notmatch '[?&]sig=') {
        $tokenUri = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=' +
            [System.Uri]::EscapeDataString('https://storage.azure.com/')
        try {
            $token = Invoke-RestMethod -Uri $tokenUri -Headers @{ Metadata = 'true' } -UseBasicParsing
            $headers['Authorization'] = 'Bearer ' + $token.access_token
            $headers['x-ms-version'] = '2021-08-06'
        } catch {
            Write-Output "No storage token from the VM identity ($($_.Exception.Message)); downloading anonymously."
        }
    }
    Write-Output "Downloading $($target.GetLeftPart([System.UriPartial]::Path))"
    Invoke-WebRequest -Uri $Uri -Headers $headers -OutFile $Path -UseBasicParsing
}

# Copies the language pack .cab of one language into $workDir and sets $script:cab to it
# (not returned: the progress output would mix with the value). `{language}` in the source
# is the tag in lower case, as on Microsoft's language pack media (de-de).
function Get-LanguagePack {
    param([string] $Language)
    $location = $source.Replace('{language}', $Language.ToLowerInvariant())
    if ($location -match '^https://') {
        $name = [System.IO.Path]::GetFileName(([System.Uri] $location).AbsolutePath)
        $local = Join-Path -Path $workDir -ChildPath $name
        Save-Download -Uri $location -Path $local
    } elseif (Test-Path -LiteralPath $location -PathType Container) {
        $arch = if ($env:PROCESSOR_ARCHITECTURE -eq 'ARM64') { 'arm64' } else { 'x64' }
        $pattern = "*Language-Pack_$($arch)_$($Language).cab"
        $found = @(Get-ChildItem -LiteralPath $location -Filter '*.cab' | Where-Object -FilterScript { $_.Name -like $pattern })
        if ($found.Count -ne 1) {
            throw "Expected one file like $pattern in $location, found $($found.Count)."
        }
        $local = Join-Path -Path $workDir -ChildPath $found[0].Name
        Copy-Item -LiteralPath $found[0].FullName -Destination $local -Force
    } elseif (Test-Path -LiteralPath $location -PathType Leaf) {
        $local = Join-Path -Path $workDir -ChildPath (Split-Path -Path $location -Leaf)
        Copy-Item -LiteralPath $location -Destination $local -Force
    } else {
        throw "The language pack for $Language is not at $location."
    }
    if ($local -notlike '*.cab') {
        throw "$local is not a .cab file; the source must lead to the language pack .cab."
    }
    $expected = $pins[$Language.ToLowerInvariant()]
    if ($null -ne $expected) {
        $actual = (Get-FileHash -LiteralPath $local -Algorithm SHA256).Hash
        if ($actual -ne $expected) {
            throw "SHA-256 of $local is $actual, expected $expected."
        }
        Write-Output "SHA-256 verified for $Language."
    }
    $script:cab = $local
}

try {
    # Pinned checksums: `de-DE=<64 hex digits>`.
    $pins = @{}
    for ($i = 0; $i -lt $checksums.Count; $i++) {
        if ($checksums[$i] -notmatch '^\s*([A-Za-z0-9-]+)\s*=\s*([0-9A-Fa-f]{64})\s*$') {
            Write-Output "sha256 entry '$($checksums[$i])' is not LANGUAGE=SHA256 (64 hex digits)."
            exit 1
        }
        $pins[$Matches[1].ToLowerInvariant()] = $Matches[2].ToUpperInvariant()
    }
    for ($i = 0; $i -lt $languages.Count; $i++) {
        if ($languages[$i] -notmatch '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){1,3}$') {
            Write-Output "'$($languages[$i])' is not a language tag such as de-DE."
            exit 1
        }
    }

    $client = Test-ClientWindows
    $useInstallLanguage = $client -and $source -eq '' -and $null -ne (Get-Command -Name 'Install-Language' -ErrorAction SilentlyContinue)
    $installed = Get-UILanguage
    Write-Output "Installed UI languages: $($installed -join ', ')"

    $missing = @($languages | Where-Object -FilterScript { $installed -notcontains $_ })
    if ($missing.Count -eq 0) {
        Write-Output 'Every requested language is installed already.'
    } elseif ($useInstallLanguage) {
        Import-Module -Name LanguagePackManagement
        # Microsoft's own AVD image scripts pause these tasks while languages install: they
        # can hold language files open and make the installation fail with a sharing violation.
        $taskPath = '\Microsoft\Windows\LanguageComponentsInstaller\'
        $paused = @(Get-ScheduledTask -TaskPath $taskPath -ErrorAction SilentlyContinue |
            Where-Object -FilterScript { $_.State -ne 'Disabled' })
        for ($i = 0; $i -lt $paused.Count; $i++) {
            Disable-ScheduledTask -TaskPath $taskPath -TaskName $paused[$i].TaskName | Out-Null
        }
        try {
            for ($i = 0; $i -lt $missing.Count; $i++) {
                # Windows Update downloads fail now and then on a fresh VM: three attempts.
                for ($attempt = 1; $attempt -le 3; $attempt++) {
                    Write-Output "Install-Language $($missing[$i]), attempt $attempt (from Windows Update; this takes a while)"
                    try {
                        if ($features) {
                            $result = Install-Language -Language $missing[$i]
                        } else {
                            $result = Install-Language -Language $missing[$i] -ExcludeFeatures
                        }
                        $result | Format-List -Property * | Out-String -Width 200 | Write-Output
                        break
                    } catch {
                        if ($attempt -eq 3) {
                            throw
                        }
                        Write-Output "Attempt $attempt failed: $($_.Exception.Message)"
                        Start-Sleep -Seconds 30
                    }
                }
            }
        } finally {
            for ($i = 0; $i -lt $paused.Count; $i++) {
                Enable-ScheduledTask -TaskPath $taskPath -TaskName $paused[$i].TaskName | Out-Null
            }
        }
    } else {
        if ($source -eq '') {
            $why = if ($client) { 'this Windows has no Install-Language' } else { 'Windows Server does not support Install-Language' }
            Write-Output "Give the source parameter (the language pack media): $why."
            exit 1
        }
        New-Item -Path $workDir -ItemType Directory -Force | Out-Null
        for ($i = 0; $i -lt $missing.Count; $i++) {
            $language = $missing[$i]
            Get-LanguagePack -Language $language
            Write-Output "Adding the $language language pack with DISM"
            Add-WindowsPackage -Online -PackagePath $cab -NoRestart | Out-Null
            Remove-Item -LiteralPath $cab -Force
            if ($features) {
                # Basic typing, OCR, handwriting, speech: whatever Windows offers for the tag.
                $capabilities = @(Get-WindowsCapability -Online |
                    Where-Object -FilterScript { $_.Name -like "Language.*~~~$($language)~*" -and $_.State -ne 'Installed' })
                for ($j = 0; $j -lt $capabilities.Count; $j++) {
                    Write-Output "Adding $($capabilities[$j].Name) (from Windows Update)"
                    Add-WindowsCapability -Online -Name $capabilities[$j].Name | Out-Null
                }
            }
        }
        Remove-Item -LiteralPath $workDir -Recurse -Force
    }

    if ($default -ne '' -and $languages -notcontains $default -and $installed -notcontains $default) {
        Write-Output "The default language $default is neither among the languages nor installed."
        exit 1
    }
    Write-Output 'Languages installed; the next step restarts Windows.'
    exit 0
} catch {
    Write-Output "language-pack failed: $($_.Exception.Message)"
    exit 1
}
