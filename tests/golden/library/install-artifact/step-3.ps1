# Reads a Key Vault secret with the build VM's user-assigned identity, through the instance
# metadata service. The value is returned, never printed.
function Get-AibcSecret {
    param([Parameter(Mandatory = $true)][string] $Uri)
    $identity = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-build-vm'
    # The token's audience is the vault's cloud: https://vault.azure.net, .usgovcloudapi.net, .azure.cn
    $vaultHost = ([System.Uri] $Uri).Host
    $resource = 'https://' + $vaultHost.Substring($vaultHost.IndexOf('.') + 1)
    $tokenUri = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01' +
        '&resource=' + [System.Uri]::EscapeDataString($resource) +
        '&msi_res_id=' + [System.Uri]::EscapeDataString($identity)
    $token = (Invoke-RestMethod -Uri $tokenUri -Headers @{ Metadata = 'true' } -UseBasicParsing).access_token
    $secret = Invoke-RestMethod -Uri ($Uri + '?api-version=7.4') -Headers @{ Authorization = "Bearer $token" } -UseBasicParsing
    return $secret.value
}

# install-artifact: installs a file that aibc uploaded with the spec and the entry's File step
# put in C:\BuildArtifacts\install-artifact: an MSI (msiexec, quiet, logged), an EXE (run
# with the given arguments) or a ZIP (extracted, then optionally a command from it). Exit
# codes are checked against the success codes, so "installed, restart needed" (3010) is not
# taken for a failure.
#
# A Key Vault secret (an enrolment key, a licence) can go into the arguments as `{secret}`:
# it is read at build time with the build VM's identity and never printed; the MSI log,
# which would record it, is deleted.
#
# Idempotent: nothing runs when `creates` exists; an MSI whose product is installed already
# is skipped; a ZIP is extracted over the same files again.
# Exit codes: 0 done (a restart an installer asked for is reported); 1 failed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$name = 'agent.msi'
$arguments = 'SERVERURL=https://agents.contoso.example ENROLLMENTKEY={secret}'
$successCodes = @('0', '3010', '1641')
$destination = ''
$command = ''
$creates = 'C:\Program Files\Contoso Agent\agent.exe'
$secretUri = 'https://kv-image-build.vault.azure.net/secrets/agent-enrollment-key'
$folder = Join-Path -Path $env:SystemDrive -ChildPath 'BuildArtifacts\install-artifact'
$artifact = Join-Path -Path $folder -ChildPath $name

# The ProductCode of an MSI, read from its Property table through Windows Installer's COM API.
function Get-MsiProductCode {
    param([string] $Path)
    $installer = New-Object -ComObject WindowsInstaller.Installer
    $database = $installer.GetType().InvokeMember('OpenDatabase', 'InvokeMethod', $null, $installer, @($Path, 0))
    $view = $database.GetType().InvokeMember('OpenView', 'InvokeMethod', $null, $database, @("SELECT Value FROM Property WHERE Property = 'ProductCode'"))
    $view.GetType().InvokeMember('Execute', 'InvokeMethod', $null, $view, $null) | Out-Null
    $record = $view.GetType().InvokeMember('Fetch', 'InvokeMethod', $null, $view, $null)
    $code = $record.GetType().InvokeMember('StringData', 'GetProperty', $null, $record, @(1))
    $view.GetType().InvokeMember('Close', 'InvokeMethod', $null, $view, $null) | Out-Null
    # Released at once, so the MSI file is not held open.
    $objects = @($record, $view, $database, $installer)
    for ($i = 0; $i -lt $objects.Count; $i++) {
        [System.Runtime.InteropServices.Marshal]::ReleaseComObject($objects[$i]) | Out-Null
    }
    return $code
}

# Runs a program, waits, and checks its exit code against the success codes. The arguments
# are shown with *** for `{secret}`, which is replaced only in what the program gets.
function Invoke-Installer {
    param([string] $FilePath, [string] $ArgumentLine)
    Write-Output "Running $FilePath $($ArgumentLine.Replace('{secret}', '***'))"
    if ($null -ne $secretValue) {
        $ArgumentLine = $ArgumentLine.Replace('{secret}', $secretValue)
    }
    if ($ArgumentLine -ne '') {
        $process = Start-Process -FilePath $FilePath -ArgumentList $ArgumentLine -PassThru
    } else {
        $process = Start-Process -FilePath $FilePath -PassThru
    }
    # Waits for the installer only: Start-Process -Wait would also wait for any program the
    # installer leaves running. Reading Handle first keeps the exit code available.
    $null = $process.Handle
    $process.WaitForExit()
    $code = $process.ExitCode
    if ($codes -notcontains $code) {
        throw "$(Split-Path -Path $FilePath -Leaf) exited with $code, which is not among the success codes ($($codes -join ', '))."
    }
    if ($code -eq 3010 -or $code -eq 1641) {
        $script:restart = $true
    }
    Write-Output "Exit code $code."
}

try {
    $codes = @()
    for ($i = 0; $i -lt $successCodes.Count; $i++) {
        if ($successCodes[$i] -notmatch '^-?\d+$') {
            Write-Output "successExitCodes: '$($successCodes[$i])' is not a number."
            exit 1
        }
        $codes += [int]$successCodes[$i]
    }
    $restart = $false
    $secretValue = $null

    if ($creates -ne '' -and (Test-Path -LiteralPath $creates)) {
        Write-Output "$creates exists: $name is installed already."
        exit 0
    }
    if (-not (Test-Path -LiteralPath $artifact)) {
        Write-Output "$artifact is missing (the entry's File step copies it)."
        exit 1
    }
    $extension = [System.IO.Path]::GetExtension($name).ToLowerInvariant()
    if ($secretUri -ne '') {
        if ($arguments -notlike '*{secret}*') {
            Write-Output 'secret is set, but arguments has no {secret} to put it in.'
            exit 1
        }
        $secretValue = Get-AibcSecret -Uri $secretUri
        Write-Output 'Read the secret from Key Vault.'
    }

    if ($extension -eq '.msi') {
        if ($creates -eq '') {
            $productCode = $null
            try {
                $productCode = Get-MsiProductCode -Path $artifact
            } catch {
                Write-Output "Could not read the ProductCode ($($_.Exception.Message)); installing."
            }
            $keys = @(
                "HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\$productCode"
                "HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\$productCode"
            )
            if ($productCode -and ((Test-Path -LiteralPath $keys[0]) -or (Test-Path -LiteralPath $keys[1]))) {
                Write-Output "$name ($productCode) is installed already."
                Remove-Item -LiteralPath $artifact -Force -ErrorAction SilentlyContinue
                exit 0
            }
        }
        $log = Join-Path -Path $folder -ChildPath ([System.IO.Path]::GetFileNameWithoutExtension($name) + '.log')
        $line = "/i `"$artifact`" /qn /norestart /l*v `"$log`""
        if ($arguments -ne '') {
            $line += ' ' + $arguments
        }
        try {
            Invoke-Installer -FilePath (Join-Path -Path $env:SystemRoot -ChildPath 'System32\msiexec.exe') -ArgumentLine $line
        } catch {
            if ($null -eq $secretValue -and (Test-Path -LiteralPath $log)) {
                Write-Output "Last lines of $($log):"
                Get-Content -LiteralPath $log -Tail 40 | Write-Output
            }
            throw
        } finally {
            if ($null -ne $secretValue -and (Test-Path -LiteralPath $log)) {
                Remove-Item -LiteralPath $log -Force
            }
        }
    } elseif ($extension -eq '.exe') {
        if ($arguments -eq '') {
            Write-Output 'Warning: no arguments for the EXE; an installer that waits for input stops the build until it times out.'
        }
        Invoke-Installer -FilePath $artifact -ArgumentLine $arguments
    } elseif ($extension -eq '.zip') {
        if ($destination -eq '' -or -not [System.IO.Path]::IsPathRooted($destination) -or $destination -notmatch '^[A-Za-z]:\\') {
            Write-Output 'A ZIP needs destination: the absolute folder to extract it to (C:\...).'
            exit 1
        }
        Write-Output "Extracting $name to $destination"
        New-Item -Path $destination -ItemType Directory -Force | Out-Null
        Expand-Archive -LiteralPath $artifact -DestinationPath $destination -Force
        if ($command -ne '') {
            $program = if ([System.IO.Path]::IsPathRooted($command)) { $command } else { Join-Path -Path $destination -ChildPath $command }
            if (-not (Test-Path -LiteralPath $program -PathType Leaf)) {
                Write-Output "command: $program is not in the extracted files."
                exit 1
            }
            $kind = [System.IO.Path]::GetExtension($program).ToLowerInvariant()
            if ($kind -eq '.ps1') {
                $powershell = Join-Path -Path $env:SystemRoot -ChildPath 'System32\WindowsPowerShell\v1.0\powershell.exe'
                Invoke-Installer -FilePath $powershell -ArgumentLine ("-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `"$program`" " + $arguments).TrimEnd()
            } elseif ($kind -eq '.cmd' -or $kind -eq '.bat') {
                Invoke-Installer -FilePath (Join-Path -Path $env:SystemRoot -ChildPath 'System32\cmd.exe') -ArgumentLine ("/c `"`"$program`" " + $arguments + '"')
            } elseif ($kind -eq '.exe') {
                Invoke-Installer -FilePath $program -ArgumentLine $arguments
            } else {
                Write-Output "command: $program is not an .exe, .cmd, .bat or .ps1."
                exit 1
            }
        }
    } else {
        Write-Output "$name is not an .msi, .exe or .zip."
        exit 1
    }

    Remove-Item -LiteralPath $artifact -Force -ErrorAction SilentlyContinue
    if ($restart) {
        Write-Output "$name asked for a restart: add a restart step (use: restart) before anything that needs it."
    }
    Write-Output "$name installed."
    exit 0
} catch {
    Write-Output "install-artifact failed: $($_.Exception.Message)"
    exit 1
}
