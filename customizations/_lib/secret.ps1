# Reads a Key Vault secret with the build VM's user-assigned identity, through the instance
# metadata service. The value is returned, never printed.
function Get-AibcSecret {
    param([Parameter(Mandatory = $true)][string] $Uri)
    $identity = '{{vmIdentity}}'
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
