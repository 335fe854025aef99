# language-pack, step 2 (after the restart that completes the installation): makes one
# language the default of the image.
#
# Windows keeps most of these settings per user, so they are set for the account running
# this step and then copied to the welcome screen (system accounts) and to the default
# profile that new users start from. The system locale (the code page of non-Unicode
# programs) is machine-wide and takes effect after the entry's final restart.
#
# Idempotent: each setting is compared first and only written when it differs.
# Exit codes: 0 done (or no default language given); 1 failed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$default = '{{default}}'
$geoId = {{geoId}}

if ($default -eq '') {
    Write-Output 'No default language given: display language, locale and formats stay as they are.'
    exit 0
}

try {
    $installed = @((Get-CimInstance -ClassName Win32_OperatingSystem).MUILanguages)
    if ($installed -notcontains $default) {
        Write-Output "$default is not an installed UI language (installed: $($installed -join ', '))."
        exit 1
    }
    if ($geoId -eq 0) {
        # The home location of the language's country (de-DE: Germany, 94).
        $geoId = (New-Object -TypeName System.Globalization.RegionInfo -ArgumentList $default).GeoId
    }

    if ((Get-WinSystemLocale).Name -ne $default) {
        Set-WinSystemLocale -SystemLocale $default
        Write-Output "System locale set to $default (effective after the restart)."
    }
    $list = Get-WinUserLanguageList
    if ($list[0].LanguageTag -ne $default) {
        # The default first; the languages the account had stay behind it (their keyboards too).
        $newList = New-WinUserLanguageList -Language $default
        for ($i = 0; $i -lt $list.Count; $i++) {
            if ($list[$i].LanguageTag -ne $default) {
                $newList.Add($list[$i].LanguageTag)
            }
        }
        Set-WinUserLanguageList -LanguageList $newList -Force
        Write-Output "Language list: $(($newList | ForEach-Object -Process { $_.LanguageTag }) -join ', ')"
    }
    $override = Get-WinUILanguageOverride
    if ($null -eq $override -or $override.Name -ne $default) {
        Set-WinUILanguageOverride -Language $default
        Write-Output "Display language set to $default."
    }
    if ((Get-Culture).Name -ne $default) {
        Set-Culture -CultureInfo $default
        Write-Output "Regional format set to $default."
    }
    if ((Get-WinHomeLocation).GeoId -ne $geoId) {
        Set-WinHomeLocation -GeoId $geoId
        Write-Output "Home location set to GeoID $geoId."
    }
    # Client Windows also has a machine-wide preferred UI language (LanguagePackManagement).
    if ($null -ne (Get-Command -Name 'Set-SystemPreferredUILanguage' -ErrorAction SilentlyContinue)) {
        try {
            if ([string](Get-SystemPreferredUILanguage) -ne $default) {
                Set-SystemPreferredUILanguage -Language $default
                Write-Output "System preferred UI language set to $default."
            }
        } catch {
            # The module is present on some Server builds, where Microsoft does not support it.
            Write-Output "Set-SystemPreferredUILanguage is not usable here: $($_.Exception.Message)"
        }
    }

    # Copy this account's settings to the welcome screen and to new users' profiles.
    $copied = $false
    if ($null -ne (Get-Command -Name 'Copy-UserInternationalSettingsToSystem' -ErrorAction SilentlyContinue)) {
        try {
            Copy-UserInternationalSettingsToSystem -WelcomeScreen $true -NewUser $true
            Write-Output 'Copied the settings to the welcome screen and new users (Copy-UserInternationalSettingsToSystem).'
            $copied = $true
        } catch {
            Write-Output "Copy-UserInternationalSettingsToSystem failed ($($_.Exception.Message)); using intl.cpl."
        }
    }
    if (-not $copied) {
        # Before Windows 11 there is no such cmdlet: the Regional Options control panel applies an
        # answer file (the documented GlobalizationServices format) with the copy flags.
        $xmlPath = Join-Path -Path $env:TEMP -ChildPath 'aibc-language-pack.xml'
        $xml = @(
            '<gs:GlobalizationServices xmlns:gs="urn:longhornGlobalizationUnattend">'
            '  <gs:UserList><gs:User UserID="Current" CopySettingsToSystemAcct="true" CopySettingsToDefaultUserAcct="true"/></gs:UserList>'
            "  <gs:UserLocale><gs:Locale Name=`"$default`" SetAsCurrent=`"true`"/></gs:UserLocale>"
            "  <gs:MUILanguagePreferences><gs:MUILanguage Value=`"$default`"/></gs:MUILanguagePreferences>"
            "  <gs:LocationPreferences><gs:GeoID Value=`"$geoId`"/></gs:LocationPreferences>"
            "  <gs:SystemLocale Name=`"$default`"/>"
            '</gs:GlobalizationServices>'
        )
        Set-Content -LiteralPath $xmlPath -Value $xml -Encoding UTF8
        $control = Start-Process -FilePath "$env:SystemRoot\System32\control.exe" -ArgumentList "intl.cpl,,/f:`"$xmlPath`"" -Wait -PassThru
        Write-Output "Copied the settings to the welcome screen and new users (intl.cpl, exit $($control.ExitCode))."
        # control.exe hands the file to the control panel, which may still be reading it.
        Start-Sleep -Seconds 10
        Remove-Item -LiteralPath $xmlPath -Force
    }

    # The welcome screen's format shows whether the copy worked.
    $welcome = Get-ItemProperty -Path 'Registry::HKEY_USERS\.DEFAULT\Control Panel\International' -Name 'LocaleName' -ErrorAction SilentlyContinue
    if ($null -ne $welcome -and $welcome.LocaleName -ne $default) {
        Write-Output "Warning: the welcome screen's locale is $($welcome.LocaleName), not $default; the copy may not have applied."
    }
    Write-Output "Default language $default configured; the entry's final step restarts Windows."
    exit 0
} catch {
    Write-Output "language-pack failed: $($_.Exception.Message)"
    exit 1
}
