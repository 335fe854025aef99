//! Azure region names (the programmatic `name`, as `az account list-locations` prints),
//! for the public cloud, US Government and Azure China. Kept sorted for binary search.

pub const REGIONS: &[&str] = &[
    "australiacentral",
    "australiacentral2",
    "australiaeast",
    "australiasoutheast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "brazilsoutheast",
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "centraluseuap",
    "chilecentral",
    "chinaeast",
    "chinaeast2",
    "chinaeast3",
    "chinanorth",
    "chinanorth2",
    "chinanorth3",
    "denmarkeast",
    "eastasia",
    "eastus",
    "eastus2",
    "eastus2euap",
    "francecentral",
    "francesouth",
    "germanynorth",
    "germanywestcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "jioindiacentral",
    "jioindiawest",
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southafricawest",
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "swedensouth",
    "switzerlandnorth",
    "switzerlandwest",
    "uaecentral",
    "uaenorth",
    "uksouth",
    "ukwest",
    "usdodcentral",
    "usdodeast",
    "usgovarizona",
    "usgovtexas",
    "usgovvirginia",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
];

pub fn is_region(name: &str) -> bool {
    REGIONS.binary_search(&name).is_ok()
}

/// The region a near miss most likely meant: `West Europe` and `westeruope` both give
/// `westeurope`.
pub fn suggest(name: &str) -> Option<&'static str> {
    let squashed: String =
        name.chars().filter(|c| !c.is_whitespace() && *c != '-' && *c != '_').collect::<String>().to_ascii_lowercase();
    if is_region(&squashed) {
        return REGIONS.iter().copied().find(|r| *r == squashed);
    }
    crate::diagnostic::suggest(&squashed, REGIONS.iter().copied())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_and_unique() {
        let mut v = super::REGIONS.to_vec();
        v.sort();
        v.dedup();
        assert_eq!(v, super::REGIONS);
    }

    #[test]
    fn suggestions() {
        assert_eq!(super::suggest("West Europe"), Some("westeurope"));
        assert_eq!(super::suggest("westeruope"), Some("westeurope"));
    }
}
