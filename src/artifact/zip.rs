//! A deterministic zip of a folder, for `File` steps whose source is a folder.
//!
//! Entries are stored (not compressed: installers are compressed already), in sorted
//! order, with a fixed timestamp and no extra fields, so the same folder always gives the
//! same bytes — and so the same SHA-256 and the same image template name.
//!
//! The zip is written to a sink as it is produced, one file at a time, so hashing a folder
//! never holds it in memory. A stored entry's local header carries the CRC-32 before the
//! data, so each file is read twice: once for its CRC, once to copy it (a file that
//! changed in between is an error, not a corrupt zip). Past 65,534 entries the 16-bit
//! counts overflow and the zip ends with ZIP64 records (APPNOTE 4.3.14-4.3.16); sizes and
//! offsets stay 32-bit because an artifact is capped below 4 GiB
//! (`fsguard::MAX_ARTIFACT_BYTES`).

use std::io::Write;

use crate::fsguard::{self, Listed};

/// Writes the zip of `files` (sorted, from `fsguard::walk`) to `sink`; returns its size.
pub fn write_zip(files: &[Listed], sink: &mut dyn Write) -> std::io::Result<u64> {
    let mut offset = 0u64;
    let mut central = Vec::new();
    let put = |sink: &mut dyn Write, bytes: &[u8], offset: &mut u64| -> std::io::Result<()> {
        sink.write_all(bytes)?;
        *offset += bytes.len() as u64;
        Ok(())
    };
    for f in files {
        let mut crc = Crc::new();
        let len = fsguard::stream(&f.real, fsguard::MAX_FILE_BYTES, &mut |b| crc.update(b))?;
        let crc = crc.finish();
        let size = u32::try_from(len).map_err(|_| std::io::Error::other(format!("{} is larger than 4 GiB", f.rel)))?;
        let at = u32::try_from(offset).map_err(|_| std::io::Error::other("the folder is larger than 4 GiB"))?;
        let name = f.rel.as_bytes();
        let name_len = u16::try_from(name.len())
            .map_err(|_| std::io::Error::other(format!("{}: the path is longer than a zip allows", f.rel)))?;
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header_tail(&mut header, crc, size, name_len);
        header.extend_from_slice(name);
        put(sink, &header, &mut offset)?;
        let mut again = Crc::new();
        let mut failed = None;
        let copied = fsguard::stream(&f.real, u64::from(size), &mut |b| {
            again.update(b);
            if failed.is_none()
                && let Err(e) = sink.write_all(b)
            {
                failed = Some(e);
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        if copied != len || again.finish() != crc {
            return Err(std::io::Error::other(format!("{} changed while it was being zipped", f.rel)));
        }
        offset += copied;
        // Central directory record.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by: 2.0
        header_tail(&mut central, crc, size, name_len);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk number
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&at.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = offset;
    let cd_size = central.len() as u64;
    put(sink, &central, &mut offset)?;
    let count = files.len() as u64;
    let mut end = Vec::new();
    // 0xFFFF in a 16-bit count means "see the ZIP64 record", so 65,535 entries need it too.
    let zip64 = count >= 0xFFFF;
    if zip64 {
        let record_at = offset;
        end.extend_from_slice(&0x0606_4b50u32.to_le_bytes()); // ZIP64 end of central directory
        end.extend_from_slice(&44u64.to_le_bytes()); // size of the rest of this record
        end.extend_from_slice(&45u16.to_le_bytes()); // made by: 4.5
        end.extend_from_slice(&45u16.to_le_bytes()); // needed: 4.5 (ZIP64)
        end.extend_from_slice(&0u32.to_le_bytes()); // this disk
        end.extend_from_slice(&0u32.to_le_bytes()); // disk of the central directory
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&cd_size.to_le_bytes());
        end.extend_from_slice(&cd_offset.to_le_bytes());
        end.extend_from_slice(&0x0706_4b50u32.to_le_bytes()); // ZIP64 end of central directory locator
        end.extend_from_slice(&0u32.to_le_bytes()); // disk of the ZIP64 record
        end.extend_from_slice(&record_at.to_le_bytes());
        end.extend_from_slice(&1u32.to_le_bytes()); // disks in all
    }
    let count16 = if zip64 { 0xFFFF } else { count as u16 };
    let too_far = || std::io::Error::other("the zip is larger than 4 GiB");
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    end.extend_from_slice(&count16.to_le_bytes());
    end.extend_from_slice(&count16.to_le_bytes());
    end.extend_from_slice(&u32::try_from(cd_size).map_err(|_| too_far())?.to_le_bytes());
    end.extend_from_slice(&u32::try_from(cd_offset).map_err(|_| too_far())?.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    put(sink, &end, &mut offset)?;
    Ok(offset)
}

/// The fields local and central headers share, from "version needed" to "extra length".
fn header_tail(out: &mut Vec<u8>, crc: u32, size: u32, name_len: u16) {
    out.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
    out.extend_from_slice(&0x0800u16.to_le_bytes()); // flags: names are UTF-8
    out.extend_from_slice(&0u16.to_le_bytes()); // method: stored
    out.extend_from_slice(&0u16.to_le_bytes()); // time 00:00
    out.extend_from_slice(&0x0021u16.to_le_bytes()); // date 1980-01-01
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra length
}

/// CRC-32 (IEEE 802.3), as zip requires, fed in pieces.
pub struct Crc(u32);

impl Crc {
    pub fn new() -> Crc {
        Crc(!0)
    }

    pub fn update(&mut self, data: &[u8]) {
        let table = table();
        self.0 = data.iter().fold(self.0, |c, b| table[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8));
    }

    pub fn finish(&self) -> u32 {
        !self.0
    }
}

impl Default for Crc {
    fn default() -> Crc {
        Crc::new()
    }
}

fn table() -> &'static [u32; 256] {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *slot = c;
        }
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsguard::{Limits, Roots, walk};

    #[test]
    fn crc_matches_the_standard_check_value() {
        let mut c = Crc::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.finish(), 0xCBF4_3926);
    }

    fn zip_of(dir: &std::path::Path) -> Vec<u8> {
        let real = std::fs::canonicalize(dir).unwrap();
        let files = walk(&Roots::new(&real, None), &real, Limits::ARTIFACT).unwrap();
        let mut out = Vec::new();
        let n = write_zip(&files, &mut out).unwrap();
        assert_eq!(n, out.len() as u64);
        out
    }

    #[test]
    fn zips_are_deterministic_and_readable() {
        let dir = std::env::temp_dir().join(format!("aibc-zip-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("b.txt"), "bee").unwrap();
        std::fs::write(dir.join("sub/a.txt"), "ay").unwrap();
        let z1 = zip_of(&dir);
        let z2 = zip_of(&dir);
        assert_eq!(z1, z2);
        // Entries in sorted order, names and contents stored as given.
        let text = String::from_utf8_lossy(&z1);
        assert!(text.find("b.txt").unwrap() < text.find("sub/a.txt").unwrap());
        assert!(text.contains("bee") && text.contains("ay"));
        assert_eq!(&z1[z1.len() - 22..z1.len() - 18], &0x0605_4b50u32.to_le_bytes());
        // Two entries: local headers 30+5+3 and 30+9+2, so the central directory starts at 79.
        assert_eq!(&z1[z1.len() - 6..z1.len() - 2], &79u32.to_le_bytes());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
