# Azure Virtual Desktop screen capture protection, set as the machine policy.
#
# Why: keeps sensitive remote content out of screenshots and screen sharing on client
# devices. The policy is "Enable screen capture protection" (Administrative Templates >
# Windows Components > Remote Desktop Services > Remote Desktop Session Host > Azure
# Virtual Desktop); it is written as:
#   HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services
#     fEnableScreenCaptureProtect = 1  block screen capture on client
#     fEnableScreenCaptureProtect = 2  block screen capture on client and server
# Clients that do not support it cannot connect (error 0x1151). It takes effect for new
# sessions after the host restarts: on a host made from the image, from its first boot.
#
# Idempotent: the value is written only when different.
# Exit codes: 0 done; 1 `clientAndServer` on a Windows older than 11 22H2, or a failure.
$ErrorActionPreference = 'Stop'

$level = '{{level}}'

try {
    if ($level -eq 'clientAndServer') {
        $value = 2
        # Blocking capture on the server too needs Windows 11 22H2 (build 22621) or later.
        $build = [int] (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion').CurrentBuildNumber
        if ($build -lt 22621) {
            Write-Output "clientAndServer needs Windows 11 22H2 (build 22621) or later; this is build $build. Use level: client."
            exit 1
        }
    } elseif ($level -eq 'client') {
        $value = 1
    } else {
        Write-Output "Unknown level '$level'; use client or clientAndServer."
        exit 1
    }

    $key = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
    if (-not (Test-Path -Path $key)) {
        New-Item -Path $key -Force | Out-Null
    }
    $item = Get-Item -Path $key
    $current = $item.GetValue('fEnableScreenCaptureProtect', $null)
    if ($null -ne $current -and $item.GetValueKind('fEnableScreenCaptureProtect') -eq 'DWord' -and $current -eq $value) {
        Write-Output "Screen capture protection is $level already ($key\fEnableScreenCaptureProtect = $value)."
    } else {
        New-ItemProperty -Path $key -Name 'fEnableScreenCaptureProtect' -Value $value -PropertyType DWord -Force | Out-Null
        Write-Output "Screen capture protection set to $level ($key\fEnableScreenCaptureProtect = $value)."
    }
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
