# Removes Store (Appx) apps that have no place on a managed image.
#
# Why both halves: deprovisioning (Remove-AppxProvisionedPackage) keeps the app from
# being installed for users who sign in later; removing it for every existing user
# (Remove-AppxPackage -AllUsers) matters because Sysprep fails at the end of the build
# when an app is installed for a user but no longer provisioned.
#
# Idempotent: apps already gone are reported as not present and skipped.
# Exit codes: 0 done; 1 one or more packages could not be removed (each is listed), or
# the Appx cmdlets failed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$patterns = @('Clipchamp.Clipchamp', 'Microsoft.BingNews', 'Microsoft.BingWeather', 'Microsoft.MicrosoftSolitaireCollection', 'Microsoft.Xbox*')

try {
    $provisioned = @(Get-AppxProvisionedPackage -Online)
    $installed = @(Get-AppxPackage -AllUsers)
    Write-Output "$($provisioned.Count) provisioned and $($installed.Count) installed package(s) on this image."
    $removed = 0
    $failed = New-Object -TypeName 'System.Collections.Generic.List[string]'

    for ($i = 0; $i -lt $patterns.Count; $i++) {
        $pattern = $patterns[$i]
        $toDeprovision = @($provisioned | Where-Object -FilterScript { $_.DisplayName -like $pattern })
        $toRemove = @($installed | Where-Object -FilterScript { $_.Name -like $pattern })
        if ($toDeprovision.Count -eq 0 -and $toRemove.Count -eq 0) {
            Write-Output "$pattern - not present"
            continue
        }
        Write-Output "$pattern"
        # Deprovision first, so nothing installs the app again for a user in between.
        for ($j = 0; $j -lt $toDeprovision.Count; $j++) {
            $package = $toDeprovision[$j]
            try {
                Remove-AppxProvisionedPackage -Online -PackageName $package.PackageName | Out-Null
                Write-Output "  deprovisioned  $($package.PackageName)"
                $removed++
            } catch {
                Write-Output "  FAILED to deprovision $($package.PackageName): $($_.Exception.Message)"
                $failed.Add($package.PackageName)
            }
        }
        for ($j = 0; $j -lt $toRemove.Count; $j++) {
            $package = $toRemove[$j]
            if ($package.NonRemovable) {
                Write-Output "  skipped        $($package.PackageFullName) (Windows marks it as not removable)"
                continue
            }
            try {
                Remove-AppxPackage -Package $package.PackageFullName -AllUsers
                Write-Output "  removed        $($package.PackageFullName) (all users)"
                $removed++
            } catch {
                Write-Output "  FAILED to remove $($package.PackageFullName): $($_.Exception.Message)"
                $failed.Add($package.PackageFullName)
            }
        }
    }

    if ($failed.Count -gt 0) {
        Write-Output "$removed removal(s) done; $($failed.Count) failed: $($failed -join ', ')"
        exit 1
    }
    Write-Output "$removed removal(s) done."
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    exit 1
}
exit 0
