//! A deterministic zip of a folder, for `File` steps whose source is a folder.
//!
//! Entries are stored (not compressed: installers are compressed already), in sorted
//! order, with a fixed timestamp and no extra fields, so the same folder always gives the
//! same bytes — and so the same SHA-256 and the same image template name.

use std::path::Path;

/// Zips the files under `dir` (recursively). Paths inside use `/`.
pub fn zip_folder(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    let mut central = Vec::new();
    for rel in &files {
        let data = std::fs::read(dir.join(rel))?;
        let name = rel.as_bytes();
        let crc = crc32(&data);
        let size =
            u32::try_from(data.len()).map_err(|_| std::io::Error::other(format!("{rel} is larger than 4 GiB")))?;
        let offset = u32::try_from(out.len()).map_err(|_| std::io::Error::other("the folder is larger than 4 GiB"))?;
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header_tail(&mut out, crc, size, name.len() as u16);
        out.extend_from_slice(name);
        out.extend_from_slice(&data);
        // Central directory record.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by: 2.0
        header_tail(&mut central, crc, size, name.len() as u16);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk number
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
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

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(root, &p, out)?;
        } else {
            out.push(p.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// CRC-32 (IEEE 802.3), as zip requires.
fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *slot = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, b| table[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn zips_are_deterministic_and_readable() {
        let dir = std::env::temp_dir().join(format!("aibc-zip-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("b.txt"), "bee").unwrap();
        std::fs::write(dir.join("sub/a.txt"), "ay").unwrap();
        let z1 = zip_folder(&dir).unwrap();
        let z2 = zip_folder(&dir).unwrap();
        assert_eq!(z1, z2);
        // Entries in sorted order, names and contents stored as given.
        let text = String::from_utf8_lossy(&z1);
        assert!(text.find("b.txt").unwrap() < text.find("sub/a.txt").unwrap());
        assert!(text.contains("bee") && text.contains("ay"));
        assert_eq!(&z1[z1.len() - 22..z1.len() - 18], &0x0605_4b50u32.to_le_bytes());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
