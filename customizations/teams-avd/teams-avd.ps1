# Teams media optimisation prerequisites for Azure Virtual Desktop session hosts.
#
# Why: with media optimisation, Teams calls and meetings are processed on the user's
# device instead of the session host. Teams only turns it on when the host says it is an
# AVD host (HKLM\SOFTWARE\Microsoft\Teams\IsWVDEnvironment = 1) and the Remote Desktop
# WebRTC Redirector Service (service RDWebRTCSvc) is installed; the Visual C++
# Redistributable is a documented prerequisite. New Teams can also use SlimCore, for which
# Microsoft still recommends the redirector as the fallback.
#
# Idempotent: the registry value is written only when different; the redirector MSI is
# installed only when no installed copy is the same version or newer; the Visual C++
# installer itself skips a version that is installed already.
# Exit codes: 0 done; 1 failed (download, checksum, signature or installer).
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$webRtcUrl = '{{webRtcUrl}}'
$webRtcSha256 = '{{webRtcSha256}}'
$installVcRedist = {{ps-bool vcRedist}}
$vcRedistUrl = '{{vcRedistUrl}}'

$work = Join-Path -Path $env:SystemRoot -ChildPath 'Temp\aibc-teams-avd'

function Save-Download {
    param(
        [Parameter(Mandatory = $true)] [string] $Uri,
        [Parameter(Mandatory = $true)] [string] $OutFile,
        [string] $Sha256 = ''
    )
    Write-Output "Downloading $Uri"
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
    Invoke-WebRequest -Uri $Uri -OutFile $OutFile -UseBasicParsing
    $hash = (Get-FileHash -Path $OutFile -Algorithm SHA256).Hash
    if ($Sha256 -ne '') {
        if ($hash -ne $Sha256) {
            throw "SHA-256 of $Uri is $hash, not the expected $Sha256."
        }
        Write-Output "SHA-256 matches ($hash)."
    } else {
        Write-Output "SHA-256: $hash (not pinned)."
    }
    $signature = Get-AuthenticodeSignature -FilePath $OutFile
    if ($signature.Status -ne 'Valid') {
        throw "$OutFile has no valid signature (status: $($signature.Status))."
    }
    if ($signature.SignerCertificate.Subject -notlike '*O=Microsoft Corporation*') {
        throw "$OutFile is signed by '$($signature.SignerCertificate.Subject)', not Microsoft."
    }
}

# A property of an MSI's Property table, through the Windows Installer COM API.
function Get-MsiProperty {
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [Parameter(Mandatory = $true)] [string] $Property
    )
    $installer = New-Object -ComObject 'WindowsInstaller.Installer'
    $database = $installer.GetType().InvokeMember('OpenDatabase', 'InvokeMethod', $null, $installer, @($Path, 0))
    $query = "SELECT Value FROM Property WHERE Property = '$Property'"
    $view = $database.GetType().InvokeMember('OpenView', 'InvokeMethod', $null, $database, @($query))
    $view.GetType().InvokeMember('Execute', 'InvokeMethod', $null, $view, $null) | Out-Null
    $record = $view.GetType().InvokeMember('Fetch', 'InvokeMethod', $null, $view, $null)
    $value = $null
    if ($null -ne $record) {
        $value = $record.GetType().InvokeMember('StringData', 'GetProperty', $null, $record, 1)
    }
    $view.GetType().InvokeMember('Close', 'InvokeMethod', $null, $view, $null) | Out-Null
    # Release the database so msiexec can open the file.
    [System.Runtime.InteropServices.Marshal]::FinalReleaseComObject($view) | Out-Null
    [System.Runtime.InteropServices.Marshal]::FinalReleaseComObject($database) | Out-Null
    [System.Runtime.InteropServices.Marshal]::FinalReleaseComObject($installer) | Out-Null
    return $value
}

# The highest installed version of a product, by its Programs and Features name.
function Get-InstalledVersion {
    param([Parameter(Mandatory = $true)] [string] $DisplayName)
    $roots = @(
        'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
        'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
    )
    $versions = @(
        Get-ChildItem -Path $roots -ErrorAction SilentlyContinue |
            Get-ItemProperty -ErrorAction SilentlyContinue |
            Where-Object -FilterScript { $_.DisplayName -eq $DisplayName -and $_.DisplayVersion } |
            ForEach-Object -Process { [version] $_.DisplayVersion }
    )
    if ($versions.Count -eq 0) {
        return $null
    }
    return ($versions | Sort-Object -Descending | Select-Object -First 1)
}

try {
    if (Test-Path -Path $work) {
        Remove-Item -Path $work -Recurse -Force
    }
    New-Item -Path $work -ItemType Directory -Force | Out-Null

    # 1. Tell Teams it runs on an AVD host.
    $teamsKey = 'HKLM:\SOFTWARE\Microsoft\Teams'
    if (-not (Test-Path -Path $teamsKey)) {
        New-Item -Path $teamsKey -Force | Out-Null
    }
    $item = Get-Item -Path $teamsKey
    $current = $item.GetValue('IsWVDEnvironment', $null)
    if ($null -ne $current -and $item.GetValueKind('IsWVDEnvironment') -eq 'DWord' -and $current -eq 1) {
        Write-Output "$teamsKey\IsWVDEnvironment is 1 already."
    } else {
        New-ItemProperty -Path $teamsKey -Name 'IsWVDEnvironment' -Value 1 -PropertyType DWord -Force | Out-Null
        Write-Output "$teamsKey\IsWVDEnvironment set to 1."
    }

    # 2. Visual C++ Redistributable. Exit codes: 0 installed or already there; 1638 a newer
    # version is installed; 3010 installed, restart wanted.
    if ($installVcRedist) {
        $vcExe = Join-Path -Path $work -ChildPath 'vc_redist.x64.exe'
        Save-Download -Uri $vcRedistUrl -OutFile $vcExe
        $vcVersion = (Get-Item -Path $vcExe).VersionInfo.ProductVersion
        Write-Output "Installing Visual C++ Redistributable $vcVersion"
        $process = Start-Process -FilePath $vcExe -ArgumentList '/install', '/quiet', '/norestart' -Wait -PassThru
        switch ($process.ExitCode) {
            0 { Write-Output 'Visual C++ Redistributable is installed.' }
            1638 { Write-Output 'A newer Visual C++ Redistributable is installed already; left as it is.' }
            3010 { Write-Output 'Visual C++ Redistributable installed; Windows wants a restart to finish.' }
            default { throw "vc_redist.x64.exe exited with $($process.ExitCode)." }
        }
    }

    # 3. Remote Desktop WebRTC Redirector Service.
    $msi = Join-Path -Path $work -ChildPath 'MsRdcWebRTCSvc_x64.msi'
    Save-Download -Uri $webRtcUrl -OutFile $msi -Sha256 $webRtcSha256
    $productName = Get-MsiProperty -Path $msi -Property 'ProductName'
    $msiVersion = [version] (Get-MsiProperty -Path $msi -Property 'ProductVersion')
    $installedVersion = Get-InstalledVersion -DisplayName $productName
    if ($null -ne $installedVersion -and $installedVersion -ge $msiVersion) {
        Write-Output "$productName $installedVersion is installed; the download is $msiVersion. Nothing to do."
    } else {
        if ($null -eq $installedVersion) {
            Write-Output "Installing $productName $msiVersion"
        } else {
            Write-Output "Upgrading $productName $installedVersion to $msiVersion"
        }
        $log = Join-Path -Path $work -ChildPath 'webrtc-install.log'
        $arguments = @('/i', "`"$msi`"", '/qn', '/norestart', '/l*v', "`"$log`"")
        $process = Start-Process -FilePath "$env:SystemRoot\System32\msiexec.exe" -ArgumentList $arguments -Wait -PassThru
        if ($process.ExitCode -eq 3010) {
            Write-Output "$productName installed; Windows wants a restart to finish."
        } elseif ($process.ExitCode -ne 0) {
            Write-Output "msiexec exited with $($process.ExitCode); the end of its log:"
            Get-Content -Path $log -Tail 40 | ForEach-Object -Process { Write-Output "  $_" }
            exit 1
        } else {
            Write-Output "$productName $msiVersion installed."
        }
    }
    $service = Get-Service -Name 'RDWebRTCSvc' -ErrorAction SilentlyContinue
    if ($null -eq $service) {
        Write-Output 'The WebRTC Redirector Service (RDWebRTCSvc) is not registered after the install.'
        exit 1
    }
    Write-Output "Service RDWebRTCSvc: $($service.Status), start type $($service.StartType)."

    Remove-Item -Path $work -Recurse -Force
    Write-Output 'Teams media optimisation prerequisites are in place.'
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
