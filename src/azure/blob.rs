//! The artifact container's data plane, through azure_storage_blob with the caller's Entra
//! token: the account allows no shared keys and no anonymous access, so there is no SAS to
//! leak. Blob names are content-addressed (`plan::Artifact::blob`), so a blob that exists with
//! our checksum in its metadata is the same bytes and is not uploaded again.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::RequestContent;
use azure_storage_blob::models::{BlobClientGetPropertiesResultHeaders, BlobClientUploadOptions};
use azure_storage_blob::{BlobClient, BlobClientOptions};
use url::Url;

use super::error::{Error, Result};

/// Metadata key holding the hex SHA-256 of the blob's bytes.
pub const SHA256_METADATA: &str = "aibcsha256";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    Uploaded,
    /// Already there with the same checksum.
    Unchanged,
}

#[derive(Clone)]
pub struct Blobs {
    credential: Arc<dyn TokenCredential>,
}

impl Blobs {
    pub fn new(credential: Arc<dyn TokenCredential>) -> Blobs {
        Blobs { credential }
    }

    fn client(&self, endpoint: &str, container: &str, blob: &str) -> Result<BlobClient> {
        let base = if endpoint.ends_with('/') { endpoint.to_string() } else { format!("{endpoint}/") };
        let url = Url::parse(&base)
            .and_then(|u| u.join(&format!("{container}/{}", encode_path(blob))))
            .map_err(|e| Error::Protocol(format!("bad blob endpoint `{endpoint}`: {e}")))?;
        BlobClient::new(url, Some(self.credential.clone()), Some(BlobClientOptions::default()))
            .map_err(|e| Error::Local(super::client::error_chain(&e)))
    }

    /// The checksum recorded on the blob, `None` when the blob does not exist.
    pub async fn recorded_sha256(&self, endpoint: &str, container: &str, blob: &str) -> Result<Option<String>> {
        let client = self.client(endpoint, container, blob)?;
        match client.get_properties(None).await {
            Ok(props) => {
                let metadata = props.metadata().map_err(|e| Error::Protocol(e.to_string()))?;
                Ok(Some(metadata.get(SHA256_METADATA).cloned().unwrap_or_default()))
            }
            Err(e) if e.http_status().map(u16::from) == Some(404) => Ok(None),
            Err(e) => Err(storage_error("read blob properties", blob, e)),
        }
    }

    /// Uploads `bytes` unless the blob already holds them.
    pub async fn upload(
        &self,
        endpoint: &str,
        container: &str,
        blob: &str,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<Upload> {
        if self.recorded_sha256(endpoint, container, blob).await?.as_deref() == Some(sha256) {
            return Ok(Upload::Unchanged);
        }
        let client = self.client(endpoint, container, blob)?;
        let options = BlobClientUploadOptions {
            metadata: Some([(SHA256_METADATA.to_string(), sha256.to_string())].into()),
            blob_content_type: Some(content_type(blob).to_string()),
            ..Default::default()
        };
        client
            .upload(RequestContent::from(bytes), Some(options))
            .await
            .map_err(|e| storage_error("upload", blob, e))?;
        Ok(Upload::Uploaded)
    }

    /// Downloads a whole blob (customization.log), `None` when it does not exist.
    pub async fn download(&self, endpoint: &str, container: &str, blob: &str) -> Result<Option<Vec<u8>>> {
        let client = self.client(endpoint, container, blob)?;
        match client.download(None).await {
            Ok(result) => {
                let bytes = result.body.collect().await.map_err(|e| storage_error("download", blob, e))?;
                Ok(Some(bytes.to_vec()))
            }
            Err(e) if e.http_status().map(u16::from) == Some(404) => Ok(None),
            Err(e) => Err(storage_error("download", blob, e)),
        }
    }
}

fn storage_error(what: &str, blob: &str, e: azure_core::Error) -> Error {
    let status = e.http_status().map(u16::from);
    let hint = match status {
        Some(403) => " (the signed-in identity needs Storage Blob Data Contributor on the artifact container)",
        _ => "",
    };
    Error::Local(format!("could not {what} `{blob}`: {}{hint}", super::client::error_chain(&e)))
}

/// Blob names may hold `/`; each segment is percent-encoded on its own.
fn encode_path(blob: &str) -> String {
    blob.split('/')
        .map(|seg| url::form_urlencoded::byte_serialize(seg.as_bytes()).collect::<String>().replace('+', "%20"))
        .collect::<Vec<_>>()
        .join("/")
}

fn content_type(blob: &str) -> &'static str {
    match blob.rsplit('.').next().unwrap_or_default() {
        "ps1" | "sh" | "txt" | "cfg" | "conf" | "log" => "text/plain; charset=utf-8",
        "json" => "application/json",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_paths_keep_slashes_and_encode_the_rest() {
        assert_eq!(encode_path("scripts/ab12/my script.ps1"), "scripts/ab12/my%20script.ps1");
        assert_eq!(content_type("a/b.zip"), "application/zip");
    }
}
