# defender-update: brings Microsoft Defender Antivirus's security intelligence (signatures)
# up to date, so a VM made from the image is protected before its own first update, and
# checks their age afterwards.
#
# From Microsoft: Update-MpSignature (Microsoft Update, or the Malware Protection Center).
# Offline: the full definitions package `mpam-fe.exe`, from an https URL, a UNC path or a
# path on the build VM, run as it is (the package installs silently, as far as we know; its
# exit code is reported, and the age check below is what decides success).
#
# Idempotent: signatures already current are left as they are.
# Exit codes: 0 signatures current enough; 1 failed, or still older than maxAgeDays.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$source = '{{source}}'
$pin = '{{sha256}}'
$maxAgeDays = {{maxAgeDays}}
$workDir = Join-Path -Path $env:SystemDrive -ChildPath 'BuildArtifacts\defender-update'

function Show-Signature {
    param([string] $Label)
    $s = Get-MpComputerStatus
    Write-Output ("{0}: signatures {1} from {2}, {3} day(s) old; engine {4}, platform {5}" -f $Label,
        $s.AntivirusSignatureVersion, $s.AntivirusSignatureLastUpdated, $s.AntivirusSignatureAge,
        $s.AMEngineVersion, $s.AMProductVersion)
}

try {
    if ($null -eq (Get-Command -Name 'Get-MpComputerStatus' -ErrorAction SilentlyContinue)) {
        Write-Output 'Microsoft Defender Antivirus is not installed on this image.'
        exit 1
    }
    $before = (Get-MpComputerStatus).AntivirusSignatureVersion
    Show-Signature -Label 'Before'

    if (@('MicrosoftUpdateServer', 'MMPC') -contains $source) {
        # A fresh VM's first update attempt sometimes fails while Windows Update starts up.
        $done = $false
        for ($attempt = 1; -not $done; $attempt++) {
            try {
                Write-Output "Update-MpSignature -UpdateSource $source (attempt $attempt)"
                Update-MpSignature -UpdateSource $source
                $done = $true
            } catch {
                if ($attempt -ge 3) {
                    throw
                }
                Write-Output "Attempt $attempt failed: $($_.Exception.Message); retrying in 30 seconds."
                Start-Sleep -Seconds 30
            }
        }
    } else {
        New-Item -Path $workDir -ItemType Directory -Force | Out-Null
        $package = Join-Path -Path $workDir -ChildPath 'mpam-fe.exe'
        if ($source -match '^https://') {
            [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
            $target = [System.Uri] $source
            $headers = @{}
            # A private blob is read as the build VM's identity (build.vmIdentities), so no key
            # or SAS lands in the template; a URL with a SAS (sig=) is used as it is.
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
            Invoke-WebRequest -Uri $source -Headers $headers -OutFile $package -UseBasicParsing
        } elseif (Test-Path -LiteralPath $source -PathType Leaf) {
            Copy-Item -LiteralPath $source -Destination $package -Force
        } else {
            Write-Output "source '$source' is neither MicrosoftUpdateServer, MMPC, an https URL nor a readable file."
            exit 1
        }
        if ($pin -ne '') {
            $actual = (Get-FileHash -LiteralPath $package -Algorithm SHA256).Hash
            if ($actual -ne $pin) {
                Write-Output "SHA-256 of the package is $actual, expected $pin."
                exit 1
            }
            Write-Output 'SHA-256 verified.'
        }
        $signature = Get-AuthenticodeSignature -FilePath $package
        if ($signature.Status -ne 'Valid' -or $signature.SignerCertificate.Subject -notmatch 'O=Microsoft Corporation') {
            Write-Output "The package is not validly signed by Microsoft ($($signature.Status))."
            exit 1
        }
        Write-Output 'Running mpam-fe.exe'
        $run = Start-Process -FilePath $package -Wait -PassThru
        Write-Output "mpam-fe.exe exited with $($run.ExitCode)."
        Remove-Item -LiteralPath $workDir -Recurse -Force
    }

    $after = Get-MpComputerStatus
    Show-Signature -Label 'After'
    if ($after.AntivirusSignatureVersion -eq $before) {
        Write-Output 'The signature version did not change (already current, or the package was not newer).'
    }
    if ($after.AntivirusSignatureAge -gt $maxAgeDays) {
        Write-Output "Signatures are $($after.AntivirusSignatureAge) day(s) old, more than maxAgeDays ($maxAgeDays)."
        exit 1
    }
    exit 0
} catch {
    Write-Output "defender-update failed: $($_.Exception.Message)"
    exit 1
}
