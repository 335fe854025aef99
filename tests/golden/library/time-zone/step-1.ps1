# Sets the system time zone; does nothing when it is already set.
$ErrorActionPreference = 'Stop'
$wanted = 'W. Europe Standard Time'
$known = [System.TimeZoneInfo]::GetSystemTimeZones() | Where-Object -FilterScript { $_.Id -eq $wanted }
if ($null -eq $known) {
    Write-Output "Unknown time zone '$wanted'; see Get-TimeZone -ListAvailable."
    exit 1
}
if ((Get-TimeZone).Id -eq $wanted) {
    Write-Output "Time zone is already $wanted."
} else {
    Set-TimeZone -Id $wanted
    Write-Output "Time zone set to $wanted."
}
exit 0
