// Edge cases for the string lexer and accessors.
targetScope = 'resourceGroup'

param name string
param regions array = [
  'westeurope'
  'northeurope'
]
param flag bool = true
param count int = -1

var url = 'https://example.com/path#frag' // trailing comment with 'quotes'
var twoHoles = '${name}${count}'
var nestedQuotes = '${format('{0}-{1}', name, 'x')}-tail'
var justQuote = '\''
var justBackslash = '\\'
var literalDollar = '\${name}'
var dollarBrace = '$'
var unicodeEsc = 'smile \u{1F600}!'
var crlf = 'a\r\nb'
var idx = regions[0]
var chain = resourceGroup().properties.provisioningState
var mixed = regions[1] == 'x' ? flag : !flag
var math = count + 2 * 3
var cmp = length(regions) >= 2 && contains(regions, 'westeurope')
var coalesced = name ?? 'default'
var inlineObj = { a: 1, b: 'two' }
var emptyArr = []
var negatives = [
  -1
  -20
]
var interpKeyObj = {
  '${name}-key': true
  plain: false
}

resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = if (flag) {
  name: toLower('st${uniqueString(resourceGroup().id)}')
  location: resourceGroup().location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
}

resource ids 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = [for (r, i) in regions: {
  name: 'id-${r}-${i}'
  location: r
}]

module perRegion 'modules/empty.bicep' = [for r in regions: {
  name: 'dep-${r}'
  params: {
    region: r
  }
}]

output firstId string = ids[0].id
output saName string = flag ? sa.name : ''
output allNames array = [for r in regions: 'x-${r}']
