//! Bundles in an OCI registry (the distribution standard container images
//! travel by): `warden bundle push` stores a bundle as a one-layer OCI
//! artifact, and `warden serve --bundle oci://…` polls its manifest digest
//! (a `HEAD`, as cheap as an ETag) and pulls the layer when it changes.
//! The bundle inside is verified exactly as one fetched over HTTP.

use std::collections::BTreeMap;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The layer's media type: a bundle as `warden build` writes it.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.warden.bundle.layer.v1.tar+gzip";
/// The config blob's media type (`{}`: a bundle carries its own manifest).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.warden.bundle.config.v1+json";

/// An `oci://REGISTRY/REPOSITORY:TAG` (or `@sha256:…`) source.
pub struct OciSource {
    client: oci_client::Client,
    reference: oci_client::Reference,
    auth: oci_client::secrets::RegistryAuth,
}

/// Whether a source is an OCI reference.
pub fn is_oci(source: &str) -> bool {
    source.starts_with("oci://")
}

impl OciSource {
    /// Reads `oci://…`; `plain_http` talks HTTP to the registry (a registry
    /// on loopback or inside a cluster without TLS); `ca_file` adds CAs.
    /// Credentials come from `WARDEN_REGISTRY_USERNAME` and
    /// `WARDEN_REGISTRY_PASSWORD` when both are set.
    pub fn new(
        source: &str,
        plain_http: bool,
        ca_file: Option<&Path>,
        timeout: std::time::Duration,
    ) -> Result<OciSource, String> {
        // rustls without a built-in provider: the server's (ring) serves it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let text = source
            .strip_prefix("oci://")
            .ok_or_else(|| format!("`{}` does not start with oci://", source.escape_default()))?;
        let reference: oci_client::Reference = text
            .parse()
            .map_err(|e| format!("`{}` is not an OCI reference: {e}", source.escape_default()))?;
        let mut extra_root_certificates = Vec::new();
        if let Some(ca) = ca_file {
            let pem =
                warden::read_file_bounded(ca, 1 << 20).map_err(|e| format!("ca_file: {e}"))?;
            extra_root_certificates.push(oci_client::client::Certificate {
                encoding: oci_client::client::CertificateEncoding::Pem,
                data: pem.into_bytes(),
            });
        }
        let config = oci_client::client::ClientConfig {
            protocol: if plain_http {
                oci_client::client::ClientProtocol::Http
            } else {
                oci_client::client::ClientProtocol::Https
            },
            extra_root_certificates,
            read_timeout: Some(timeout),
            connect_timeout: Some(timeout),
            ..Default::default()
        };
        let auth = match (
            std::env::var("WARDEN_REGISTRY_USERNAME"),
            std::env::var("WARDEN_REGISTRY_PASSWORD"),
        ) {
            (Ok(user), Ok(password)) => oci_client::secrets::RegistryAuth::Basic(user, password),
            _ => oci_client::secrets::RegistryAuth::Anonymous,
        };
        Ok(OciSource {
            client: oci_client::Client::new(config),
            reference,
            auth,
        })
    }

    /// The digest of the manifest the reference names now.
    pub async fn digest(&self) -> Result<String, String> {
        self.client
            .fetch_manifest_digest(&self.reference, &self.auth)
            .await
            .map_err(|e| format!("{}: {e}", self.reference))
    }

    /// The bundle the reference names, at most `max_bytes`, and the
    /// manifest's digest.
    pub async fn pull(&self, max_bytes: u64) -> Result<(Vec<u8>, String), String> {
        let shown = |e: &dyn std::fmt::Display| format!("{}: {e}", self.reference);
        let (manifest, digest) = self
            .client
            .pull_image_manifest(&self.reference, &self.auth)
            .await
            .map_err(|e| shown(&e))?;
        let layer = match manifest.layers.as_slice() {
            [layer] if layer.media_type == LAYER_MEDIA_TYPE => layer,
            _ => {
                return Err(shown(&format!(
                    "not a Warden bundle: an artifact of one `{LAYER_MEDIA_TYPE}` layer is expected \
                     (push it with `warden bundle push`)"
                )));
            }
        };
        if layer.size < 0 || layer.size as u64 > max_bytes {
            return Err(shown(&format!(
                "the bundle is larger than {max_bytes} bytes ({} listed)",
                layer.size
            )));
        }
        let mut out = Bounded {
            bytes: Vec::new(),
            limit: max_bytes,
        };
        // The client checks the blob against its digest as it reads.
        self.client
            .pull_blob(&self.reference, layer, &mut out)
            .await
            .map_err(|e| shown(&e))?;
        Ok((out.bytes, digest))
    }

    /// Pushes `bundle` (a `.tar.gz` from `warden build`) under the
    /// reference, with its revision as an annotation; the manifest's URL.
    pub async fn push(&self, bundle: Vec<u8>, revision: &str) -> Result<String, String> {
        let mut annotations = BTreeMap::new();
        annotations.insert(
            "org.opencontainers.image.title".to_string(),
            "bundle.tar.gz".to_string(),
        );
        let layer = oci_client::client::ImageLayer::new(
            bundle,
            LAYER_MEDIA_TYPE.to_string(),
            Some(annotations),
        );
        let config =
            oci_client::client::Config::new(b"{}".to_vec(), CONFIG_MEDIA_TYPE.to_string(), None);
        let mut manifest_annotations = BTreeMap::new();
        manifest_annotations.insert(
            "org.opencontainers.image.revision".to_string(),
            revision.to_string(),
        );
        let layers = [layer];
        let manifest = oci_client::manifest::OciImageManifest::build(
            &layers,
            &config,
            Some(manifest_annotations),
        );
        self.client
            .push(&self.reference, &layers, config, &self.auth, Some(manifest))
            .await
            .map(|pushed| pushed.manifest_url)
            .map_err(|e| format!("{}: {e}", self.reference))
    }
}

/// A sink for a blob that refuses to grow past its limit.
struct Bounded {
    bytes: Vec<u8>,
    limit: u64,
}

impl tokio::io::AsyncWrite for Bounded {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if (this.bytes.len() + buf.len()) as u64 > this.limit {
            return Poll::Ready(Err(std::io::Error::other(format!(
                "the bundle is larger than {} bytes",
                this.limit
            ))));
        }
        this.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
