//! Gallery image versions chosen at deploy time: `date`, `next` and `semver` (the spec's
//! `version:`). AIB's own schemes (`latest`, `source`) are the service's business and need
//! nothing here; an explicit `1.2.3` is compiled into the template.
//!
//! A version is `Major.Minor.Patch`, each part an int32 (the gallery's rule), so `date` is
//! `YYYY.MMDD.HHmm` written without leading zeros: `2026.1203.905` for 09:05 on 3 December
//! 2026. Numeric order is time order, which is what `latest` goes by.

use std::fmt;
use std::str::FromStr;

use crate::spec::{Bump, SchemeName, Version};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GalleryVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl GalleryVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        GalleryVersion { major, minor, patch }
    }

    fn bump(self, part: Bump) -> Option<GalleryVersion> {
        let next = |n: u32| n.checked_add(1).filter(|n| *n <= i32::MAX as u32);
        Some(match part {
            Bump::Major => GalleryVersion::new(next(self.major)?, 0, 0),
            Bump::Minor => GalleryVersion::new(self.major, next(self.minor)?, 0),
            Bump::Patch => GalleryVersion::new(self.major, self.minor, next(self.patch)?),
        })
    }
}

impl fmt::Display for GalleryVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for GalleryVersion {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let mut parts = s.split('.').map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            p.parse::<i32>().ok().filter(|n| *n >= 0).map(|n| n as u32).ok_or(())
        });
        let v = GalleryVersion::new(parts.next().ok_or(())??, parts.next().ok_or(())??, parts.next().ok_or(())??);
        if parts.next().is_some() { Err(()) } else { Ok(v) }
    }
}

/// A point in time, in UTC, as `date` needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: u32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

impl Utc {
    /// From seconds since the Unix epoch (days-to-civil, Howard Hinnant's algorithm).
    pub fn from_unix(secs: u64) -> Utc {
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
        Utc { year, month, day, hour: (rem / 3600) as u32, minute: (rem % 3600 / 60) as u32 }
    }

    pub fn now() -> Utc {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Utc::from_unix(secs)
    }
}

/// The scheme a spec's gallery distribution asks aibc to compute, with its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Date,
    Next,
    Semver(Bump),
}

impl Scheme {
    pub fn of(version: &Version) -> Option<Scheme> {
        match version {
            Version::Text(t) => match t.as_str() {
                "date" => Some(Scheme::Date),
                "next" => Some(Scheme::Next),
                "semver" => Some(Scheme::Semver(Bump::Patch)),
                _ => None,
            },
            Version::Scheme(s) => match s.scheme {
                SchemeName::Date => Some(Scheme::Date),
                SchemeName::Next => Some(Scheme::Next),
                SchemeName::Semver => Some(Scheme::Semver(s.bump.unwrap_or(Bump::Patch))),
                SchemeName::Latest | SchemeName::Source => None,
            },
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scheme::Date => "date",
            Scheme::Next => "next",
            Scheme::Semver(_) => "semver",
        }
    }
}

/// The version to publish, given the versions the image definition already has.
///
/// * `date`: the time; if that minute's version exists (two builds in one minute), the
///   next free patch after it.
/// * `next`: the newest version's next patch (`1.0.0` for an empty definition).
/// * `semver`: the newest version bumped in the chosen part (`1.0.0` when empty).
pub fn choose(scheme: Scheme, existing: &[GalleryVersion], now: Utc) -> Option<GalleryVersion> {
    let newest = existing.iter().max().copied();
    match scheme {
        Scheme::Date => {
            let mut v = GalleryVersion::new(now.year, now.month * 100 + now.day, now.hour * 100 + now.minute);
            while existing.contains(&v) {
                v = v.bump(Bump::Patch)?;
            }
            Some(v)
        }
        Scheme::Next => newest.map_or(Some(GalleryVersion::new(1, 0, 0)), |n| n.bump(Bump::Patch)),
        Scheme::Semver(part) => newest.map_or(Some(GalleryVersion::new(1, 0, 0)), |n| n.bump(part)),
    }
}

/// Gallery version names from a list of `versions` resources; names that are not
/// `M.m.p` are ignored (the gallery allows nothing else, but a listing is not ours).
pub fn parse_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<GalleryVersion> {
    names.into_iter().filter_map(|n| n.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> GalleryVersion {
        s.parse().unwrap()
    }

    #[test]
    fn parses_only_gallery_versions() {
        assert_eq!(v("1.20.300"), GalleryVersion::new(1, 20, 300));
        for bad in ["1.2", "1.2.3.4", "1.x.3", "", "1..3", "-1.0.0", "2147483648.0.0", "+1.0.0"] {
            assert!(bad.parse::<GalleryVersion>().is_err(), "{bad}");
        }
    }

    #[test]
    fn order_is_numeric() {
        assert!(v("1.10.0") > v("1.9.9"));
        assert_eq!(v("1.0.10").to_string(), "1.0.10");
    }

    #[test]
    fn civil_dates_from_unix_time() {
        assert_eq!(Utc::from_unix(0), Utc { year: 1970, month: 1, day: 1, hour: 0, minute: 0 });
        // 2024-02-29T23:59:00Z, a leap day.
        assert_eq!(Utc::from_unix(1_709_251_140), Utc { year: 2024, month: 2, day: 29, hour: 23, minute: 59 });
        // 2026-12-03T09:05:00Z.
        assert_eq!(Utc::from_unix(1_796_288_700), Utc { year: 2026, month: 12, day: 3, hour: 9, minute: 5 });
    }

    #[test]
    fn date_versions_sort_by_time_and_avoid_collisions() {
        let at = |month, day, hour, minute| Utc { year: 2026, month, day, hour, minute };
        let a = choose(Scheme::Date, &[], at(1, 5, 9, 30)).unwrap();
        assert_eq!(a.to_string(), "2026.105.930");
        let b = choose(Scheme::Date, &[], at(12, 3, 0, 5)).unwrap();
        assert!(b > a);
        let taken = [v("2026.1203.5"), v("2026.1203.6")];
        assert_eq!(choose(Scheme::Date, &taken, at(12, 3, 0, 5)).unwrap().to_string(), "2026.1203.7");
    }

    #[test]
    fn next_and_semver() {
        let existing = [v("1.0.9"), v("1.2.3"), v("0.9.0")];
        assert_eq!(choose(Scheme::Next, &existing, Utc::from_unix(0)).unwrap(), v("1.2.4"));
        assert_eq!(choose(Scheme::Next, &[], Utc::from_unix(0)).unwrap(), v("1.0.0"));
        assert_eq!(choose(Scheme::Semver(Bump::Minor), &existing, Utc::from_unix(0)).unwrap(), v("1.3.0"));
        assert_eq!(choose(Scheme::Semver(Bump::Major), &existing, Utc::from_unix(0)).unwrap(), v("2.0.0"));
    }

    #[test]
    fn int32_overflow_is_refused() {
        let top = [GalleryVersion::new(1, 0, i32::MAX as u32)];
        assert_eq!(choose(Scheme::Next, &top, Utc::from_unix(0)), None);
    }

    #[test]
    fn schemes_from_the_spec() {
        assert_eq!(Scheme::of(&Version::Text("date".into())), Some(Scheme::Date));
        assert_eq!(Scheme::of(&Version::Text("1.2.3".into())), None);
        assert_eq!(Scheme::of(&Version::Text("latest".into())), None);
    }
}
