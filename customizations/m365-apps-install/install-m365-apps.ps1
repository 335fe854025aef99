# Installs Microsoft 365 Apps with the Office Deployment Tool (ODT).
#
# Why: images built from a plain Windows marketplace image have no Microsoft 365 Apps;
# the ODT installs exactly the products, languages, channel and settings your
# configuration XML names (setup.exe /configure). Microsoft's AVD guidance for the XML:
# <Property Name="SharedComputerLicensing" Value="1"/> and <Updates Enabled="FALSE"/>.
#
# The configuration was copied by the previous (File) step to
# C:\BuildArtifacts\m365-apps-install\, under its own file name.
#
# Idempotent: setup.exe /configure brings the installation to what the XML describes;
# when it is there already, running it again changes nothing.
# Exit codes: 0 done; 1 the configuration is missing or not ODT XML, the download or its
# signature is wrong, or setup.exe failed (its exit code is printed).
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# The file name comes from the spec's path (`office/configuration.xml`), as the File step's
# destination takes it.
$configuration = Join-Path -Path 'C:\BuildArtifacts\m365-apps-install' -ChildPath (Split-Path -Path '{{configuration}}' -Leaf)
$setupUrl = '{{setupUrl}}'
$setupSha256 = '{{setupSha256}}'

try {
    if (-not (Test-Path -Path $configuration)) {
        Write-Output "The configuration $configuration is missing; the File step before this one copies it."
        exit 1
    }
    $xml = New-Object -TypeName 'System.Xml.XmlDocument'
    try {
        $xml.Load($configuration)
    } catch {
        Write-Output "$configuration is not well-formed XML: $($_.Exception.Message)"
        exit 1
    }
    if ($xml.DocumentElement.Name -ne 'Configuration') {
        Write-Output "$configuration is not an Office Deployment Tool configuration (its root element is <$($xml.DocumentElement.Name)>, not <Configuration>)."
        exit 1
    }
    # Advice, not errors: a configuration may be meant for a single-session image.
    $shared = $xml.SelectSingleNode("/Configuration/Property[@Name='SharedComputerLicensing'][@Value='1']")
    if ($null -eq $shared) {
        Write-Output 'Note: the configuration does not turn on shared computer activation, which multi-session hosts need (m365-apps can).'
    }
    $updates = $xml.SelectSingleNode('/Configuration/Updates')
    if ($null -eq $updates -or $updates.GetAttribute('Enabled') -ne 'FALSE') {
        Write-Output 'Note: the configuration leaves automatic updates on; images usually turn them off (m365-apps can).'
    }

    $work = Join-Path -Path $env:SystemRoot -ChildPath 'Temp\aibc-odt'
    if (-not (Test-Path -Path $work)) {
        New-Item -Path $work -ItemType Directory -Force | Out-Null
    }
    $setup = Join-Path -Path $work -ChildPath 'setup.exe'
    Write-Output "Downloading the Office Deployment Tool from $setupUrl"
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
    Invoke-WebRequest -Uri $setupUrl -OutFile $setup -UseBasicParsing
    $hash = (Get-FileHash -Path $setup -Algorithm SHA256).Hash
    if ($setupSha256 -ne '') {
        if ($hash -ne $setupSha256) {
            Write-Output "SHA-256 of setup.exe is $hash, not the expected $setupSha256."
            exit 1
        }
        Write-Output "SHA-256 matches ($hash)."
    } else {
        Write-Output "SHA-256 of setup.exe: $hash (not pinned)."
    }
    $signature = Get-AuthenticodeSignature -FilePath $setup
    if ($signature.Status -ne 'Valid') {
        Write-Output "setup.exe has no valid signature (status: $($signature.Status))."
        exit 1
    }
    if ($signature.SignerCertificate.Subject -notlike '*O=Microsoft Corporation*') {
        Write-Output "setup.exe is signed by '$($signature.SignerCertificate.Subject)', not Microsoft."
        exit 1
    }
    Write-Output "Office Deployment Tool $((Get-Item -Path $setup).VersionInfo.FileVersion)"

    # setup.exe waits until the installation has finished; it takes a while.
    Write-Output "Running setup.exe /configure $configuration"
    $process = Start-Process -FilePath $setup -ArgumentList '/configure', "`"$configuration`"" -Wait -PassThru -WorkingDirectory $work
    if ($process.ExitCode -ne 0) {
        Write-Output "setup.exe /configure exited with $($process.ExitCode); its logs are in $env:TEMP and $env:SystemRoot\Temp (or the <Logging> path of the configuration)."
        exit 1
    }

    $c2r = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Office\ClickToRun\Configuration' -ErrorAction SilentlyContinue
    if ($null -eq $c2r) {
        Write-Output 'setup.exe succeeded, but Click-to-Run is not registered; check the configuration.'
        exit 1
    }
    Write-Output "Microsoft 365 Apps $($c2r.VersionToReport) installed: $($c2r.ProductReleaseIds) ($($c2r.Platform)), shared computer activation: $($c2r.SharedComputerLicensing)."
    Remove-Item -Path $work -Recurse -Force
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
