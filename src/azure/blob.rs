//! The artifact container's data plane, through azure_storage_blob with the caller's Entra
//! token: the account allows no shared keys and no anonymous access, so there is no SAS to
//! leak. Blob names are content-addressed (`plan::Artifact::blob`), so a blob that exists with
//! our checksum in its metadata is the same bytes and is not uploaded again.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::RequestContent;
use azure_storage_blob::models::{
    BlobClientGetPropertiesResultHeaders, BlobClientUploadOptions, BlobContainerClientListBlobsOptions,
};
use azure_storage_blob::{BlobClient, BlobClientOptions, BlobContainerClient};
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
    /// Per-try deadline and certificate failures, as for ARM (super::limits).
    guard: Arc<dyn azure_core::http::policies::Policy>,
}

impl Blobs {
    pub fn new(credential: Arc<dyn TokenCredential>, limits: &super::limits::Limits) -> Blobs {
        // An upload of a large artifact over a slow link may rightly take long.
        let per_try = limits.per_try.max(std::time::Duration::from_secs(30 * 60));
        Blobs { credential, guard: Arc::new(super::limits::Guard::new(per_try)) }
    }

    fn client_options(&self) -> azure_core::http::ClientOptions {
        azure_core::http::ClientOptions { per_try_policies: vec![self.guard.clone()], ..Default::default() }
    }

    fn client(&self, endpoint: &str, container: &str, blob: &str) -> Result<BlobClient> {
        let base = if endpoint.ends_with('/') { endpoint.to_string() } else { format!("{endpoint}/") };
        let url = Url::parse(&base)
            .and_then(|u| u.join(&format!("{container}/{}", encode_path(blob))))
            .map_err(|e| Error::Protocol(format!("bad blob endpoint `{endpoint}`: {e}")))?;
        let options = BlobClientOptions { client_options: self.client_options(), ..Default::default() };
        BlobClient::new(url, Some(self.credential.clone()), Some(options))
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

    /// Names and last-modified times (Unix seconds) of the blobs under `prefix`.
    pub async fn list(&self, endpoint: &str, container: &str, prefix: &str) -> Result<Vec<(String, i64)>> {
        use futures::TryStreamExt;
        let base = if endpoint.ends_with('/') { endpoint.to_string() } else { format!("{endpoint}/") };
        let url = Url::parse(&base)
            .and_then(|u| u.join(container))
            .map_err(|e| Error::Protocol(format!("bad blob endpoint `{endpoint}`: {e}")))?;
        let options = azure_storage_blob::BlobContainerClientOptions {
            client_options: self.client_options(),
            ..Default::default()
        };
        let client = BlobContainerClient::new(url, Some(self.credential.clone()), Some(options))
            .map_err(|e| Error::Local(super::client::error_chain(&e)))?;
        let options = BlobContainerClientListBlobsOptions {
            prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
            ..Default::default()
        };
        let mut pages = client.list_blobs(Some(options)).map_err(|e| storage_error("list", container, e))?.into_pages();
        let mut out = Vec::new();
        loop {
            match pages.try_next().await {
                Ok(Some(page)) => {
                    let page = page.into_model().map_err(|e| storage_error("list", container, e))?;
                    for item in page.blob_items {
                        let modified = item
                            .properties
                            .as_ref()
                            .and_then(|p| p.last_modified)
                            .map(|t| t.unix_timestamp())
                            .unwrap_or_default();
                        if let Some(name) = item.name {
                            out.push((name, modified));
                        }
                    }
                }
                Ok(None) => break,
                Err(e) if e.http_status().map(u16::from) == Some(404) => break,
                Err(e) => return Err(storage_error("list", container, e)),
            }
        }
        Ok(out)
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

/// A refusal by the storage service is Azure's answer (exit 3), with the role that is
/// usually missing; anything else is a transport problem.
fn storage_error(what: &str, blob: &str, e: azure_core::Error) -> Error {
    let chain = super::client::error_chain(&e);
    match e.http_status().map(u16::from) {
        Some(status) => {
            let hint = if status == 403 {
                " (the signed-in identity needs Storage Blob Data Contributor on the container, or Reader for logs)"
            } else {
                ""
            };
            Error::Azure(Box::new(super::error::AzureError {
                operation: format!("{what} blob `{blob}`"),
                status,
                error: super::error::ErrorDetail {
                    code: match e.kind() {
                        azure_core::error::ErrorKind::HttpResponse { error_code: Some(c), .. } => c.clone(),
                        _ => "StorageError".to_string(),
                    },
                    message: format!("{chain}{hint}"),
                    ..Default::default()
                },
                request_id: None,
                correlation_id: None,
            }))
        }
        None => Error::Transport(format!("could not {what} `{blob}`: {chain}")),
    }
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
